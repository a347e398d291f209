using AdHocMirror.Contracts.V1;
using Xunit.Abstractions;

namespace AdHocMirror.EndToEnd.Tests.Scenarios;

/// <summary>
/// A volunteer whose upstream is frozen at yesterday's tree keeps serving it honestly while the others advance. It is
/// the nearest mirror, yet a user who already has that version (or newer) is never sent there; staff see its older
/// version in the admin view.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class StaleMirrorTests(ITestOutputHelper output)
{
    [Fact]
    public Task StaleMirrorIsNeverOfferedToNewerClients() => ScenarioSwarm.RunAsync(new SwarmPlan
    {
        Volunteers =
        [
            new("stale", 2, "Augsburg, DE", 48.37, 10.90, FrozenUpstream: true, SyncInterval: "1s"),
            new("fresh", 3, "Zurich, CH", 47.37, 8.54, SyncInterval: "1s"),
        ],
    }, output, async swarm =>
    {
        var stale = swarm["stale"];
        var fresh = swarm["fresh"];
        var rsyncVersion = (MirrorInfo m) => m.Versions.Single(v => v.Protocol == Protocol.Rsync).Generated.ToDateTimeOffset();

        Assert.Equal(swarm.PreviousVersion, rsyncVersion(await swarm.MirrorOfAsync(stale)));
        Assert.Equal(swarm.Version, rsyncVersion(await swarm.MirrorOfAsync(fresh)));

        // A user with yesterday's tree: the stale mirror has nothing newer for them.
        Assert.DoesNotContain((await swarm.FindAsync(swarm.PreviousVersion)).Candidates, c => c.MirrorId == stale.KeyId);
        var repo = await swarm.NewUserRepoAsync(withPreviousTree: true);
        var first = await swarm.SyncAsync(repo);
        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.DoesNotContain(first.Attempts, a => a.Uri == stale.RsyncUri);
        Assert.Equal(fresh.RsyncUri, first.Source);
        Assert.Equal(SyncRun.VersionText(swarm.Version), first.Version);
        Assert.Equal(swarm.Version, await swarm.VerifiedVersionOfAsync(repo));

        // The upstream advances; the fresh mirror follows, the stale one cannot.
        await swarm.AdvanceUpstreamAsync();
        await swarm.WaitForMirrorAsync(fresh, m => rsyncVersion(m) == swarm.Version, "serving the new version");
        Assert.DoesNotContain((await swarm.FindAsync(swarm.Version.AddHours(-1))).Candidates, c => c.MirrorId == stale.KeyId);
        var second = await swarm.SyncAsync(repo);
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.DoesNotContain(second.Attempts, a => a.Uri == stale.RsyncUri);
        Assert.Equal(fresh.RsyncUri, second.Source);
        Assert.Equal(SyncRun.VersionText(swarm.Version), second.Version);
        Assert.Equal(swarm.Version, await swarm.VerifiedVersionOfAsync(repo));

        var view = await swarm.AdminCliAsync(ListMirrorsReply.Parser, "mirrors");
        var staleView = view.Mirrors.Single(m => m.KeyId == stale.KeyId);
        Assert.Equal(MirrorState.Online, staleView.State);
        Assert.Equal(swarm.PreviousVersion, rsyncVersion(staleView));
        Assert.Equal(swarm.Version, rsyncVersion(view.Mirrors.Single(m => m.KeyId == fresh.KeyId)));

        // Up to date now: the coordinator says so, and sends nobody anywhere.
        var again = await swarm.SyncAsync(repo);
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Equal("up_to_date", again.Status);
        Assert.Empty(again.Attempts);
    });
}
