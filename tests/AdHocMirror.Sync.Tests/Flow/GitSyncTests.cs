using AdHocMirror.Contracts.V1;
using AdHocMirror.Sync.Tests.Support;
using AdHocMirror.Testing;
using AdHocMirror.Testing.Trees;
using AdHocMirror.Tree.Git;
using AdHocMirror.Tree.OpenPgp;

namespace AdHocMirror.Sync.Tests.Flow;

/// <summary>The git protocol: shallow fetch from a real git daemon, signed head commit verified, checkout swapped in atomically.</summary>
public sealed class GitSyncTests
{
    [Fact]
    public async Task Git_sync_first_and_incremental_installs_the_signed_head()
    {
        await using var world = await SyncWorld.CreateAsync(officialTree: null);
        var served = world.Dir.Combine("git-served");
        var upstream = Path.Combine(served, "gentoo.git");
        var first = await GentooGitTree.CreateAsync(upstream, new GentooTreeOptions { Seed = 3, Files = 200, Timestamp = SyncWorld.V1 }, world.Key);
        await using var daemon = await GitDaemon.StartAsync("127.0.0.5", served);
        await world.LoginAsync("127.0.0.5", new MirrorEndpoints { GitUri = daemon.UriFor("gentoo.git") }, SyncWorld.Version(Protocol.Git, SyncWorld.V1, first));
        var noOfficial = $"git://127.0.0.1:{FreePort.Next()}/gentoo";

        var run = await world.SyncAsync("--protocol", "git", "--official", noOfficial);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(daemon.UriFor("gentoo.git"), run.Source);
        Assert.Equal(first, await HeadAsync(world));
        Assert.True(await VerifiesAsync(world), "installed checkout verifies");
        var download = Path.Combine(world.Repository, "distfiles", "foo-1.0.tar.gz");
        Directory.CreateDirectory(Path.GetDirectoryName(download)!);
        await File.WriteAllTextAsync(download, "DISTDIR under the repository, as on older installs");

        await GentooTree.NextVersionAsync(upstream, seed: 9, changes: 6, SyncWorld.V2, key: null);
        var second = await GentooGitTree.CommitAsync(upstream, world.Key, SyncWorld.V2, "Next version");
        await world.LoginAsync("127.0.0.6", new MirrorEndpoints { GitUri = daemon.UriFor("gentoo.git") }, SyncWorld.Version(Protocol.Git, SyncWorld.V2, second));

        var next = await world.SyncAsync("--official", noOfficial); // protocol now from the repository (.git)

        Assert.True(next.ExitCode == 0, next.ToString());
        Assert.Equal("synced", next.Status);
        Assert.Equal("git", next.Result.GetProperty("protocol").GetString());
        Assert.Equal(second, await HeadAsync(world));
        Assert.True(await VerifiesAsync(world), "updated checkout verifies");
        Assert.True(File.Exists(download), "distfiles/ stays in the repository");

        var again = await world.SyncAsync("--official", noOfficial);
        Assert.Equal("up_to_date", again.Status);
    }

    [Fact]
    public async Task Git_mirror_with_an_unsigned_head_is_refused()
    {
        await using var world = await SyncWorld.CreateAsync(officialTree: null);
        var served = world.Dir.Combine("git-served");
        var upstream = Path.Combine(served, "gentoo.git");
        await GentooGitTree.CreateAsync(upstream, new GentooTreeOptions { Seed = 3, Files = 60, Timestamp = SyncWorld.V1 }, world.Key);
        var unsigned = await GentooGitTree.CommitAsync(upstream, key: null, SyncWorld.V2, "Unsigned");
        await using var daemon = await GitDaemon.StartAsync("127.0.0.5", served);
        await world.LoginAsync("127.0.0.5", new MirrorEndpoints { GitUri = daemon.UriFor("gentoo.git") }, SyncWorld.Version(Protocol.Git, SyncWorld.V2, unsigned));

        var run = await world.SyncAsync("--protocol", "git", "--official", $"git://127.0.0.1:{FreePort.Next()}/gentoo");

        Assert.Equal(AdHocMirror.Hosting.ExitCodes.VerificationRefused, run.ExitCode);
        Assert.Equal("verification_failed", run.Attempts[0].GetProperty("outcome").GetString());
        Assert.False(Directory.Exists(world.Repository) && Directory.EnumerateFileSystemEntries(world.Repository).Any());
    }

    private static async Task<string> HeadAsync(SyncWorld world) =>
        (await ExternalProcess.RunAsync("git", ["-C", world.Repository, "rev-parse", "HEAD"])).EnsureSuccess("rev-parse").Stdout.Trim();

    private static async Task<bool> VerifiesAsync(SyncWorld world)
    {
        await using var keyring = await OpenPgpKeyring.OpenAsync(world.Key.PublicKeyFile);
        var result = await new SignedGitVerifier().VerifyAsync(world.Repository, keyring);
        Assert.True(result.Succeeded, result.Summary);
        return result.Succeeded;
    }
}
