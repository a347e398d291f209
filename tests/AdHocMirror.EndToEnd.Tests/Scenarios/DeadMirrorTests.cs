using AdHocMirror.Contracts.V1;
using AdHocMirror.Testing;
using Xunit.Abstractions;

namespace AdHocMirror.EndToEnd.Tests.Scenarios;

/// <summary>
/// A volunteer's machine dies (kill -9 of the daemon and its rsync): the next user is still sent there before the
/// coordinator notices, fails over to the next mirror and ends with a verified tree; after the configured consecutive
/// failed pings staff see it offline and nobody is sent there any more.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class DeadMirrorTests(ITestOutputHelper output)
{
    [Fact]
    public Task KilledMirrorIsFailedOverThenTakenOffline() => ScenarioSwarm.RunAsync(new SwarmPlan
    {
        // Killed after the sync was handed to it, the victim is taken offline by the third failed ping, some 8–10 s later.
        PingInterval = "3s",
        PingFailures = 3,
        Volunteers =
        [
            new("victim", 2, "Augsburg, DE", 48.37, 10.90),
            new("survivor", 3, "Zurich, CH", 47.37, 8.54),
        ],
    }, output, async swarm =>
    {
        var victim = swarm["victim"];
        var survivor = swarm["survivor"];

        var lastPing = (await swarm.MirrorOfAsync(victim)).LastPing;
        await swarm.WaitForMirrorAsync(victim, m => m.LastPing != lastPing, "pinged once more");

        // The user must be sent there while the coordinator still thinks it alive, whatever the machine's load: its rsync
        // daemon is frozen first (the daemon still answers pings, so it stays online), the machine dies only once the
        // coordinator has handed it to the user's sync (a lease on it), and the sync's connection dies with it.
        var rsyncd = ProcessTable.DescendantsOf(victim.Process.Id)
            .Where(c => c.CommandLine.Contains("rsync", StringComparison.Ordinal) && c.CommandLine.Contains("--daemon", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(rsyncd);
        foreach (var daemon in rsyncd)
        {
            (await ExternalProcess.RunAsync("kill", ["-STOP", daemon.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)])).EnsureSuccess("kill -STOP");
        }

        var repo = await swarm.NewUserRepoAsync();
        var syncing = swarm.SyncAsync(repo);
        await swarm.WaitForMirrorAsync(victim, m => m.Leases > 0 && m.State == MirrorState.Online, "handed to the user's sync");
        var children = await swarm.KillVolunteerAsync(victim);
        Assert.Contains(children, c => c.CommandLine.Contains("rsync", StringComparison.Ordinal) && c.CommandLine.Contains("--daemon", StringComparison.Ordinal));

        var run = await syncing;
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("synced", run.Status);
        Assert.True(run.Attempts.Count >= 2, run.ToString());
        Assert.Equal(victim.RsyncUri, run.Attempts[0].Uri);
        // Reset by the kill ("unreachable"), or, when the kill came after the connect timeout on a loaded machine, "timeout".
        Assert.Contains(run.Attempts[0].Outcome, new[] { "unreachable", "timeout" });
        Assert.True(run.Attempts[0].Reported, "the failure was reported to the coordinator");
        Assert.Equal(survivor.RsyncUri, run.Source);
        Assert.Equal(SyncRun.VersionText(swarm.Version), run.Version);
        Assert.Equal(swarm.Version, await swarm.VerifiedVersionOfAsync(repo));

        await swarm.WaitForMirrorAsync(victim, m => m.State == MirrorState.Offline, "offline after 3 failed pings");
        var view = await swarm.AdminCliAsync(ListMirrorsReply.Parser, "mirrors");
        var dead = view.Mirrors.Single(m => m.KeyId == victim.KeyId);
        Assert.Equal(MirrorState.Offline, dead.State);
        Assert.True(dead.FailedPings >= 3, $"failed pings: {dead.FailedPings}");
        Assert.Equal(MirrorState.Online, view.Mirrors.Single(m => m.KeyId == survivor.KeyId).State);

        var offered = await swarm.FindAsync();
        Assert.DoesNotContain(offered.Candidates, c => c.MirrorId == victim.KeyId);
        Assert.Contains(offered.Candidates, c => c.MirrorId == survivor.KeyId);

        var later = await swarm.SyncAsync(await swarm.NewUserRepoAsync());
        Assert.True(later.ExitCode == 0, later.ToString());
        Assert.DoesNotContain(later.Attempts, a => a.Uri == victim.RsyncUri);
        Assert.Equal(survivor.RsyncUri, later.Source);
    });
}
