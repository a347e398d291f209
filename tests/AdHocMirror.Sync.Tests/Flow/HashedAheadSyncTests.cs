using AdHocMirror.Hosting;
using AdHocMirror.Sync.Tests.Support;
using AdHocMirror.Testing;
using AdHocMirror.Testing.Trees;

namespace AdHocMirror.Sync.Tests.Flow;

/// <summary>
/// Files are hashed while rsync receives them (real rsync daemons, real gpg): a transfer cut in the middle is never
/// installed, and a staged file that changes after it arrived (and was likely hashed) is judged by what it is at the
/// end, so only exactly the signed tree is installed.
/// </summary>
public sealed class HashedAheadSyncTests
{
    [Fact]
    public async Task A_transfer_cut_by_the_mirror_dying_after_files_were_hashed_is_never_installed()
    {
        await using var world = await SyncWorld.CreateAsync(coordinator: false, officialTree: null);
        await world.InstallAsync("v1");
        var fresh = world.Dir.Combine("fresh", "gentoo");
        var dying = await world.ServeAsync("127.0.0.9", await world.CopyOfAsync("v2"), bandwidthKiBps: 16);

        var sync = world.SyncProcessAsync("--repo", fresh, "--no-coordinator", "--official", dying.Uri);
        await Eventually.TrueAsync(() => StagedFiles(fresh) >= 20, "twenty files received from the slow mirror", TimeSpan.FromSeconds(60));
        await dying.KillAsync();
        var run = await sync;

        Assert.True(run.ExitCode == ExitCodes.NoUsableSource, run.ToString());
        Assert.Equal("unreachable", Assert.Single(run.Attempts).GetProperty("outcome").GetString());
        Assert.False(Directory.Exists(fresh), "nothing was installed");
        Assert.Empty(Directory.GetDirectories(Path.GetDirectoryName(fresh)!, ".gentoo.ahm-staging-*"));
    }

    [Fact]
    public async Task A_staged_file_rewritten_in_place_after_it_arrived_is_refused_and_the_signed_tree_installed()
    {
        await using var world = await SyncWorld.CreateAsync(coordinator: false, officialTree: "v2");
        var fresh = world.Dir.Combine("fresh", "gentoo");
        var slow = await world.ServeAsync("127.0.0.8", await world.CopyOfAsync("v2"), bandwidthKiBps: 48);

        var sync = world.SyncProcessAsync("--repo", fresh, "--no-coordinator", "--official", slow.Uri, "--official", world.Official!.Uri);
        string? victim = null;
        await Eventually.TrueAsync(() => (victim = ReceivedBeforeOthers(fresh)) is not null, "files received from the slow mirror", TimeSpan.FromSeconds(60));
        // As rsync --inplace or a second pass would: the same inode, the same size and mtime, other bytes.
        var staged = Path.Combine(StagingOf(fresh)!, victim!);
        RewriteInPlace(staged);
        var stillReceiving = StagedFiles(fresh) < Directory.EnumerateFiles(world.TreeV2, "*.ebuild", SearchOption.AllDirectories).Count();
        var run = await sync;

        Assert.True(stillReceiving, "the file was rewritten while the transfer still ran");
        Assert.True(run.ExitCode == ExitCodes.Success, run.ToString());
        Assert.Equal(2, run.Attempts.Count);
        Assert.Equal("verification_failed", run.Attempts[0].GetProperty("outcome").GetString());
        Assert.Contains(victim!, run.Attempts[0].GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(world.Official.Uri, run.Source);
        await AssertExactlyAsync(world, fresh);
    }

    [Fact]
    public async Task A_file_the_mirror_changes_during_the_transfer_is_refused_and_the_signed_tree_installed()
    {
        await using var world = await SyncWorld.CreateAsync(coordinator: false, officialTree: "v2");
        var fresh = world.Dir.Combine("fresh", "gentoo");
        var served = await world.CopyOfAsync("v2");
        var changing = await world.ServeAsync("127.0.0.8", served, bandwidthKiBps: 48);
        // The last file in rsync's order: not sent yet when the transfer has started.
        var last = GentooTree.ListContent(served).Where(f => f.Count(c => c == '/') == 2).Max(StringComparer.Ordinal)!;

        var sync = world.SyncProcessAsync("--repo", fresh, "--no-coordinator", "--official", changing.Uri, "--official", world.Official!.Uri);
        await Eventually.TrueAsync(() => StagedFiles(fresh) >= 10, "files received from the changing mirror", TimeSpan.FromSeconds(60));
        RewriteInPlace(Path.Combine(served, last));
        var run = await sync;

        Assert.True(run.ExitCode == ExitCodes.Success, run.ToString());
        Assert.Equal("verification_failed", run.Attempts[0].GetProperty("outcome").GetString());
        Assert.Equal(world.Official.Uri, run.Source);
        await AssertExactlyAsync(world, fresh);
    }

    /// <summary>The installed tree verifies in full and holds the signed tree's files, byte for byte, and no others.</summary>
    private static async Task AssertExactlyAsync(SyncWorld world, string repository)
    {
        await using var keyring = await AdHocMirror.Tree.OpenPgp.OpenPgpKeyring.OpenAsync(world.Key.PublicKeyFile);
        var verified = await new AdHocMirror.Tree.Manifests.ManifestTreeVerifier().VerifyAsync(repository, keyring);
        Assert.True(verified.Succeeded, verified.Summary);
        var signed = GentooTree.ListContent(world.TreeV2);
        Assert.Equal(signed, GentooTree.ListContent(repository));
        Assert.All(signed, f => Assert.True(
            File.ReadAllBytes(Path.Combine(world.TreeV2, f)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(repository, f))), f));
    }

    private static string? StagingOf(string repository) =>
        Directory.Exists(Path.GetDirectoryName(repository)) ? Directory.GetDirectories(Path.GetDirectoryName(repository)!, ".gentoo.ahm-staging-*").FirstOrDefault() : null;

    private static int StagedFiles(string repository)
    {
        try
        {
            return StagingOf(repository) is { } staging ? Directory.EnumerateFiles(staging, "*.ebuild", SearchOption.AllDirectories).Count() : 0;
        }
        catch (DirectoryNotFoundException)
        {
            return 0;
        }
    }

    /// <summary>An ebuild already in place with at least five received after it (rsync is done with it), or null.</summary>
    private static string? ReceivedBeforeOthers(string repository)
    {
        if (StagingOf(repository) is not { } staging)
        {
            return null;
        }

        try
        {
            var files = Directory.EnumerateFiles(staging, "*.ebuild", SearchOption.AllDirectories)
                .Select(f => Path.GetRelativePath(staging, f)).Order(StringComparer.Ordinal).ToList();
            return files.Count >= 10 ? files[0] : null;
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }
    }

    private static void RewriteInPlace(string path)
    {
        var mtime = File.GetLastWriteTimeUtc(path);
        var bytes = File.ReadAllBytes(path).Select(b => (byte)(b ^ 0x20)).ToArray();
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Write))
        {
            stream.Write(bytes);
        }

        File.SetLastWriteTimeUtc(path, mtime);
    }
}
