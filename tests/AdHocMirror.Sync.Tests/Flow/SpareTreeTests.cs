using System.Globalization;
using System.Text.RegularExpressions;
using AdHocMirror.Hosting;
using AdHocMirror.Testing;
using AdHocMirror.Testing.Trees;
using AdHocMirror.Tree.Rsync;
using AdHocMirror.Sync.Tests.Support;

namespace AdHocMirror.Sync.Tests.Flow;

/// <summary>rsync: the replaced tree is kept as the spare, and the next sync updates it in place of building a hard-link farm.</summary>
public sealed class SpareTreeTests
{
    private static readonly DateTimeOffset V3 = SyncWorld.V2.AddDays(1);

    private static async Task<(SyncWorld World, RsyncDaemon V2, RsyncDaemon V3)> SetupAsync()
    {
        var world = await SyncWorld.CreateAsync(coordinator: false, officialTree: null);
        var v3 = world.Dir.Combine("trees", "v3");
        await SyncWorld.CopyTreeAsync(world.TreeV2, v3);
        await GentooTree.NextVersionAsync(v3, seed: 9, changes: 10, V3, world.Key);
        await world.InstallAsync("v1");
        return (world, await world.ServeAsync("127.0.0.2", await world.CopyOfAsync("v2")), await world.ServeAsync("127.0.0.3", await world.CopyOfAsync(v3)));
    }

    private static string Spare(SyncWorld world) => Path.Combine(Path.GetDirectoryName(world.Repository)!, ".gentoo.ahm-spare");

    /// <summary>The spare once the detached refresh that follows an incremental sync has ended (it takes the spare away meanwhile).</summary>
    private static async Task<string> RefreshedSpareAsync(SyncWorld world)
    {
        var parent = Path.GetDirectoryName(world.Repository)!;
        await Eventually.TrueAsync(() => !Directory.EnumerateFileSystemEntries(parent, ".gentoo.ahm-refresh*").Any() && Directory.Exists(Spare(world)), "the spare's refresh ends");
        return Spare(world);
    }

    private static async Task<long> InodeAsync(string path) =>
        long.Parse((await ExternalProcess.RunAsync("stat", ["-c", "%i", "--", path])).EnsureSuccess("stat").Stdout.Trim(), CultureInfo.InvariantCulture);

    [Fact]
    public async Task The_second_incremental_sync_updates_the_spare_in_place_transfers_only_the_change_and_verifies()
    {
        var (world, v2, v3) = await SetupAsync();
        await using var owned = world;
        var v1Root = await InodeAsync(world.Repository);
        var download = Path.Combine(world.Repository, "distfiles", "foo-1.0.tar.gz");
        Directory.CreateDirectory(Path.GetDirectoryName(download)!);
        await File.WriteAllTextAsync(download, "DISTDIR under the repository, as on older installs");
        var first = await world.SyncAsync("--no-coordinator", "--official", v2.Uri);
        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Equal(v1Root, await InodeAsync(await RefreshedSpareAsync(world))); // the replaced V1 tree is the spare, not removed
        var v2Root = await InodeAsync(world.Repository);

        var second = await world.SyncAsync("--no-coordinator", "--official", v3.Uri);

        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Equal("synced", second.Status);
        Assert.Equal(v1Root, await InodeAsync(world.Repository)); // staging was the spare: the V1 dir now holds V3
        Assert.Equal(v2Root, await InodeAsync(await RefreshedSpareAsync(world)));
        Assert.Equal(V3, (await world.VerifyRepositoryAsync()).Generated);
        Assert.True(File.Exists(download), "distfiles/ stays in the repository, as with portage's in-place rsync");
        Assert.False(Directory.Exists(Path.Combine(Spare(world), "distfiles")));
        // V1 → V3 in the spare, with --link-dest to V2: files changed V1 → V2 are linked, not sent; only V2 → V3 travels,
        // the same bytes as a bare in-place rsync of V2 → V3 with portage's options.
        var bare = world.Dir.Combine("bare");
        await SyncWorld.CopyTreeAsync(world.TreeV2, bare);
        var reference = (await ExternalProcess.RunAsync("rsync", [.. PortageRsync.Options, "--no-human-readable", v3.Uri + "/", bare + "/"])).EnsureSuccess("bare rsync");
        var bareBytes = long.Parse(Regex.Match(reference.Stdout, @"Total bytes received: (\d+)").Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.True(second.BytesReceived <= bareBytes * 11 / 10 + 512, $"second {second.BytesReceived} B vs bare rsync {bareBytes} B");
        var files = second.Attempts[0].GetProperty("files_transferred").GetInt64();
        Assert.True(files >= 10 && files * 3 < SyncWorld.TreeFiles, $"{files} files transferred");
        Assert.Empty(Directory.GetFileSystemEntries(Path.GetDirectoryName(world.Repository)!, ".gentoo.ahm-staging-*"));

        // Synced again to the same version (no coordinator to say so first): the updated staging dir is the spare again.
        var same = await world.SyncAsync("--no-coordinator", "--official", v3.Uri);
        Assert.True(same.ExitCode == 0, same.ToString());
        Assert.Equal("up_to_date", same.Status);
        Assert.Equal(v2Root, await InodeAsync(Spare(world)));
        Assert.Equal(v1Root, await InodeAsync(world.Repository));
    }

    [Fact]
    public async Task A_spare_file_replaced_by_foreign_content_is_refused_by_verification_and_the_tree_is_untouched()
    {
        var (world, v2, v3) = await SetupAsync();
        await using var owned = world;
        var first = await world.SyncAsync("--no-coordinator", "--official", v2.Uri);
        Assert.True(first.ExitCode == 0, first.ToString());
        await RefreshedSpareAsync(world);

        // A new inode with wrong content that has the size, time and mode of a file changed V2 → V3: rsync's quick check
        // takes it for the new file, and --link-dest cannot relink it (the current tree's copy differs), so only
        // verification can catch it. (A spare file matching the current tree's is relinked to it by rsync anyway.)
        var relative = GentooTree.ListContent(v3.Path).Order(StringComparer.Ordinal).First(p =>
            p.EndsWith(".ebuild", StringComparison.Ordinal) && File.Exists(Path.Combine(world.TreeV2, p))
            && !File.ReadAllBytes(Path.Combine(world.TreeV2, p)).SequenceEqual(File.ReadAllBytes(Path.Combine(v3.Path, p))));
        var genuine = Path.Combine(v3.Path, relative);
        var victim = Path.Combine(Spare(world), relative);
        var foreign = victim + ".tmp";
        await File.WriteAllBytesAsync(foreign, Enumerable.Repeat((byte)'#', (int)new FileInfo(genuine).Length).ToArray());
        File.SetUnixFileMode(foreign, File.GetUnixFileMode(genuine));
        File.SetLastWriteTimeUtc(foreign, File.GetLastWriteTimeUtc(genuine));
        File.Move(foreign, victim, overwrite: true);

        var refused = await world.SyncAsync("--no-coordinator", "--official", v3.Uri);

        Assert.Equal(ExitCodes.VerificationRefused, refused.ExitCode);
        Assert.Contains(relative, refused.ToString(), StringComparison.Ordinal);
        Assert.Equal(SyncWorld.V2, (await world.VerifyRepositoryAsync()).Generated);
        Assert.False(Directory.Exists(Spare(world))); // consumed

        // The next sync builds its staging dir from scratch.
        var again = await world.SyncAsync("--no-coordinator", "--official", v3.Uri);
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Equal(V3, (await world.VerifyRepositoryAsync()).Generated);
    }
}
