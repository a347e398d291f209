using AdHocMirror.Sync.Configuration;
using AdHocMirror.Sync.Transfer;

namespace AdHocMirror.Sync.Tests.Transfer;

/// <summary>
/// rsync writes files under their final names only into an empty staging directory: into the spare, whose files are
/// the installed tree's own inodes, an in-place write would change the installed tree before anything was verified.
/// </summary>
public sealed class RsyncInPlaceTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ahm-inplace-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Only_an_empty_staging_directory_without_link_dest_is_written_in_place()
    {
        var empty = Directory.CreateDirectory(Path.Combine(_dir, "empty")).FullName;
        var used = Directory.CreateDirectory(Path.Combine(_dir, "used")).FullName;
        File.WriteAllText(Path.Combine(used, "a"), "x");

        Assert.True(RsyncTransfer.WritesInPlace(empty, null));
        Assert.False(RsyncTransfer.WritesInPlace(empty, used));
        Assert.False(RsyncTransfer.WritesInPlace(used, null));
        Assert.False(RsyncTransfer.WritesInPlace(Path.Combine(_dir, "missing"), null));
    }

    [Fact]
    public async Task A_first_sync_into_an_empty_directory_receives_the_whole_tree()
    {
        var source = Tree("source", ("a", "new a"), ("cat/pkg/b.ebuild", "new b"));
        var staging = Directory.CreateDirectory(Path.Combine(_dir, "staging")).FullName;

        var result = await new RsyncTransfer(new SyncOptions()).FetchAsync(source, staging, null, null, CancellationToken.None);

        Assert.True(result.Succeeded, result.Detail);
        Assert.Equal("new a", File.ReadAllText(Path.Combine(staging, "a")));
        Assert.Equal("new b", File.ReadAllText(Path.Combine(staging, "cat/pkg/b.ebuild")));
        Assert.Empty(Directory.EnumerateFiles(staging, ".*", SearchOption.AllDirectories)); // no temporary names left
    }

    [Fact]
    public async Task Updating_the_spare_leaves_the_installed_tree_it_shares_inodes_with_unchanged()
    {
        var installed = Tree("installed", ("a", "old a"), ("cat/pkg/b.ebuild", "old b"));
        var spare = Path.Combine(_dir, "spare");
        await RunAsync("cp", "-al", installed, spare);
        // Same sizes as the installed files, other contents and times: rsync rewrites both.
        var source = Tree("source", ("a", "new a"), ("cat/pkg/b.ebuild", "new b"));
        File.SetLastWriteTimeUtc(Path.Combine(source, "a"), DateTime.UtcNow.AddDays(1));
        File.SetLastWriteTimeUtc(Path.Combine(source, "cat/pkg/b.ebuild"), DateTime.UtcNow.AddDays(1));

        var result = await new RsyncTransfer(new SyncOptions()).FetchAsync(source, spare, null, null, CancellationToken.None);

        Assert.True(result.Succeeded, result.Detail);
        Assert.Equal("new a", File.ReadAllText(Path.Combine(spare, "a")));
        Assert.Equal("new b", File.ReadAllText(Path.Combine(spare, "cat/pkg/b.ebuild")));
        Assert.Equal("old a", File.ReadAllText(Path.Combine(installed, "a")));
        Assert.Equal("old b", File.ReadAllText(Path.Combine(installed, "cat/pkg/b.ebuild")));
    }

    private string Tree(string name, params (string Path, string Text)[] files)
    {
        var root = Path.Combine(_dir, name);
        foreach (var (path, text) in files)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(root, path))!);
            File.WriteAllText(Path.Combine(root, path), text);
        }

        return root;
    }

    private static async Task RunAsync(string program, params string[] arguments)
    {
        using var process = System.Diagnostics.Process.Start(program, arguments);
        await process.WaitForExitAsync();
        Assert.Equal(0, process.ExitCode);
    }
}
