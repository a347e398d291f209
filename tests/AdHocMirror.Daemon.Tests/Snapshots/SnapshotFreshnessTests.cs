using AdHocMirror.Contracts.V1;
using AdHocMirror.Daemon.Status;
using AdHocMirror.Daemon.Tests.Support;
using AdHocMirror.Testing;
using AdHocMirror.Tree.Rsync;

namespace AdHocMirror.Daemon.Tests.Snapshots;

/// <summary>New upstream versions are published and reported; bad or old ones are refused and the last good snapshot stays served.</summary>
public sealed class SnapshotFreshnessTests
{
    [Fact]
    public async Task Upstream_advances_and_the_new_version_is_published_served_and_reported()
    {
        await using var world = await MirrorWorld.StartAsync();
        await world.OnlineAsync(OfficialUpstream.FirstVersion);
        var firstSnapshot = world.State.Status.Rsync!.Snapshot;

        await world.Upstream.AdvanceAsync(TimeSpan.FromHours(1), seed: 11);
        var next = OfficialUpstream.FirstVersion + TimeSpan.FromHours(1);
        var mirror = await world.OnlineAsync(next);
        Assert.Contains(mirror.Versions, v => v.Protocol == Protocol.Git && v.Commit == world.Upstream.GitHead);
        Assert.NotEqual(firstSnapshot, world.State.Status.Rsync!.Snapshot);

        // Clients get the new tree.
        var client = Path.Combine(world.Root, "client");
        Directory.CreateDirectory(client);
        (await ExternalProcess.RunAsync("rsync", PortageRsync.Arguments(world.Options.RsyncUri, client, null))).EnsureSuccess("rsync");
        Assert.Contains("TIMESTAMP " + next.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture), await File.ReadAllTextAsync(Path.Combine(client, "Manifest")));
        var clone = Path.Combine(world.Root, "clone");
        (await ExternalProcess.RunAsync("git", ["clone", "--quiet", "--depth", "1", world.Options.GitUri, clone])).EnsureSuccess("git clone");
        Assert.Equal(world.Upstream.GitHead, (await ExternalProcess.RunAsync("git", ["-C", clone, "rev-parse", "HEAD"])).Stdout.Trim());
    }

    [Fact]
    public async Task Tampered_unsigned_or_older_upstream_trees_are_refused_and_the_last_good_snapshot_is_kept()
    {
        await using var world = await MirrorWorld.StartAsync();
        await world.OnlineAsync(OfficialUpstream.FirstVersion);
        var servedSnapshot = world.State.Status.Rsync!.Snapshot;
        var servedCommit = world.Upstream.GitHead;

        // A modified file the signed Manifest does not cover; an unsigned head commit.
        world.Upstream.TamperRsync();
        await world.Upstream.CommitUnsignedAsync();
        await Eventually.TrueAsync(() => world.State.Status is { Rsync.LastSyncError: { } r, Git.LastSyncError: { } g }
            && r.Contains("failed verification", StringComparison.Ordinal) && g.Contains("failed verification", StringComparison.Ordinal),
            "both syncs refuse the bad trees");
        await AssertStillServingAsync(world, servedSnapshot, servedCommit);

        // Validly signed but older than what is served: a replay, refused as a rollback.
        await world.Upstream.ServeOlderRsyncAsync();
        await world.Upstream.CommitSignedButOlderAsync();
        await Eventually.TrueAsync(() => world.State.Status is { Rsync.LastSyncError: { } r, Git.LastSyncError: { } g }
            && r.Contains("rollback", StringComparison.Ordinal) && g.Contains("rollback", StringComparison.Ordinal),
            "both syncs refuse the older trees");
        await AssertStillServingAsync(world, servedSnapshot, servedCommit);
        var status = StatusFile.Read(world.Options.StatusFile)!;
        Assert.True(status.Rsync!.Failures >= 2);
    }

    [Fact]
    public async Task With_upstream_down_a_restarted_daemon_serves_and_advertises_its_last_good_snapshots()
    {
        await using var world = await MirrorWorld.StartAsync();
        var first = await world.OnlineAsync(OfficialUpstream.FirstVersion);
        await world.Daemon.StopAsync();
        world.Daemon.Dispose();

        // Upstream gone: the rsync daemon stops and the git repository disappears.
        await world.Upstream.DisposeAsync();
        Directory.Move(world.Upstream.GitRepository, world.Upstream.GitRepository + ".gone");
        await world.StartDaemonAsync();

        var again = await world.OnlineAsync(OfficialUpstream.FirstVersion);
        Assert.Equal(first.KeyId, again.KeyId);
        await Eventually.TrueAsync(() => world.State.Status is { Rsync.LastSyncResult: "failed", Git.LastSyncResult: "failed" }, "the syncs fail");
        Assert.True(world.Log.Contains("Serving the Rsync snapshot of an earlier run"));
        Assert.True(world.Log.Contains("Serving the Git snapshot of an earlier run"));
        await AssertStillServingAsync(world, world.State.Status.Rsync!.Snapshot, first.Versions.Single(v => v.Protocol == Protocol.Git).Commit);
    }

    private static async Task AssertStillServingAsync(MirrorWorld world, string? snapshot, string commit)
    {
        Assert.Equal(snapshot, world.State.Status.Rsync!.Snapshot);
        Assert.Equal(OfficialUpstream.FirstVersion, world.State.RsyncVersion!.Value.Generated);
        var mirror = await world.Coordinator.MirrorAsync(world.KeyId);
        Assert.All(mirror!.Versions, v => Assert.Equal(OfficialUpstream.FirstVersion, v.Generated.ToDateTimeOffset()));

        var client = Path.Combine(world.Root, "client-" + Guid.NewGuid().ToString("N")[..6]);
        Directory.CreateDirectory(client);
        (await ExternalProcess.RunAsync("rsync", PortageRsync.Arguments(world.Options.RsyncUri, client, null))).EnsureSuccess("rsync");
        Assert.DoesNotContain("evil.example", string.Concat(Directory.EnumerateFiles(client, "*.ebuild", SearchOption.AllDirectories).Select(File.ReadAllText)), StringComparison.Ordinal);
        var remote = await ExternalProcess.RunAsync("git", ["ls-remote", world.Options.GitUri]);
        remote.EnsureSuccess("git ls-remote");
        Assert.Contains(commit + "\tHEAD", remote.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("refs/ahm", remote.Stdout, StringComparison.Ordinal);
    }
}
