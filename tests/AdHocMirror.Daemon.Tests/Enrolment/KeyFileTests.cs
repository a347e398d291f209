using AdHocMirror.Daemon.Enrolment;
using AdHocMirror.Testing;

namespace AdHocMirror.Daemon.Tests.Enrolment;

public sealed class KeyFileTests
{
    private static readonly StoredKey Key = new(new string('a', 32), new string('b', 64), DateTimeOffset.FromUnixTimeSeconds(1_790_000_000), DateTimeOffset.FromUnixTimeSeconds(1_792_592_000));

    [Fact]
    public void Saves_with_mode_0600_and_reads_back()
    {
        using var temp = new TempDir();
        var file = new KeyFile(temp.Combine("state", "key"));
        file.Save(Key);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file.Path));
        Assert.Equal(Key, file.Load());
        Assert.Single(Directory.GetFiles(temp.Combine("state")));
    }

    [Fact]
    public void A_loosened_mode_is_tightened_on_load()
    {
        using var temp = new TempDir();
        var file = new KeyFile(temp.Combine("key"));
        file.Save(Key);
        File.SetUnixFileMode(file.Path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);
        Assert.Equal(Key, file.Load());
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file.Path));
    }

    [Fact]
    public void Missing_is_null_and_damaged_is_an_error()
    {
        using var temp = new TempDir();
        var file = new KeyFile(temp.Combine("key"));
        Assert.Null(file.Load());
        File.WriteAllText(file.Path, "key_id=zz\nsecret=\n");
        Assert.Throws<InvalidDataException>(file.Load);
    }
}
