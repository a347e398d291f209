using AdHocMirror.GeoIP.Reloading;
using AdHocMirror.Testing;

namespace AdHocMirror.GeoIP.Tests.Reloading;

public sealed class FileIdentityTests
{
    [Fact]
    public void A_file_renamed_over_another_is_a_different_file_even_with_equal_size_and_time()
    {
        using var dir = new TempDir("ahm-geo-identity");
        var live = dir.Combine("live.mmdb");
        var staged = dir.Combine("staged.tmp");
        File.WriteAllBytes(live, new byte[100]);
        File.WriteAllBytes(staged, new byte[100]);
        var time = new DateTime(2026, 11, 1, 0, 0, 0, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(live, time);
        File.SetLastWriteTimeUtc(staged, time);

        var before = FileIdentity.Of(live);
        Assert.Equal(before, FileIdentity.Of(live));
        File.Move(staged, live, overwrite: true);
        var after = FileIdentity.Of(live);

        Assert.NotNull(before);
        Assert.NotEqual(0UL, before.Value.Inode);
        Assert.Equal(before.Value.Length, after!.Value.Length);
        Assert.Equal(before.Value.ModifiedTicks, after.Value.ModifiedTicks);
        Assert.NotEqual(before, after);
        Assert.Null(FileIdentity.Of(dir.Combine("missing")));
    }
}
