using AdHocMirror.Contracts.V1;
using AdHocMirror.Testing;
using Xunit.Abstractions;

namespace AdHocMirror.EndToEnd.Tests.Scenarios;

/// <summary>
/// The coordinator is killed (kill -9) mid-run and started again on the same data directory. Meanwhile ahm-sync says
/// the coordinator is unreachable and syncs from the official mirror directly; afterwards the volunteers are back
/// online by themselves under the same keys (the store survived the crash) and users are sent to them again.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class CoordinatorRestartTests(ITestOutputHelper output)
{
    [Fact]
    public Task UsersFallBackWhileTheCoordinatorIsDownAndVolunteersReturnAfterItsRestart() => ScenarioSwarm.RunAsync(new SwarmPlan
    {
        Volunteers =
        [
            new("near", 2, "Augsburg, DE", 48.37, 10.90),
            new("far", 3, "Zurich, CH", 47.37, 8.54),
        ],
    }, output, async swarm =>
    {
        var near = swarm["near"];
        var keysBefore = swarm.Volunteers.Select(v => v.KeyId).Order(StringComparer.Ordinal).ToList();

        await swarm.Coordinator.KillAsync();
        swarm.Say("coordinator killed");

        var repo = await swarm.NewUserRepoAsync();
        var run = await swarm.SyncAsync(repo);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.False(run.CoordinatorReachable);
        Assert.True(run.SourceOfficial, run.ToString());
        Assert.Equal(swarm.OfficialUri, run.Source);
        Assert.Contains("unreachable", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("syncing from the official mirrors directly", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("official mirror", run.Message, StringComparison.Ordinal);
        Assert.Equal(swarm.Version, await swarm.VerifiedVersionOfAsync(repo));

        // The daemons keep serving meanwhile: the upstream advances and they follow without a coordinator.
        await swarm.AdvanceUpstreamAsync();
        swarm.StartCoordinator();
        swarm.Say("coordinator started again on the same data directory");

        // Back by themselves: online (pinged), reporting the version they picked up while the coordinator was away.
        await Eventually.TrueAsync(
            async () => (await swarm.MirrorsAsync()).Count(m => m.State == MirrorState.Online && m.Versions.Any(v => v.Generated.ToDateTimeOffset() == swarm.Version)) == swarm.Volunteers.Count,
            "the volunteers online again with the new version", TimeSpan.FromSeconds(60));
        var view = await swarm.AdminCliAsync(ListMirrorsReply.Parser, "mirrors");
        var online = view.Mirrors.Where(m => m.State == MirrorState.Online).ToList();
        Assert.Equal(keysBefore, online.Select(m => m.KeyId).Order(StringComparer.Ordinal).ToList());
        Assert.Equal(swarm.Volunteers.Select(v => v.RsyncUri).Order(StringComparer.Ordinal), online.Select(m => m.Endpoints.RsyncUri).Order(StringComparer.Ordinal));
        var keys = await swarm.AdminCliAsync(ListKeysReply.Parser, "keys");
        Assert.All(keysBefore, id => Assert.Equal(KeyState.Live, keys.Keys.Single(k => k.KeyId == id).State));

        var after = await swarm.SyncAsync(repo);
        Assert.True(after.ExitCode == 0, after.ToString());
        Assert.True(after.CoordinatorReachable);
        Assert.False(after.SourceOfficial);
        Assert.Equal(near.RsyncUri, after.Source);
        Assert.Equal(SyncRun.VersionText(swarm.Version), after.Version);
        Assert.Equal(swarm.Version, await swarm.VerifiedVersionOfAsync(repo));
    });
}
