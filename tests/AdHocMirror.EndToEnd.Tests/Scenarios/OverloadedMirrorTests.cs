using AdHocMirror.Contracts.V1;
using Grpc.Core;
using Xunit.Abstractions;

namespace AdHocMirror.EndToEnd.Tests.Scenarios;

/// <summary>
/// A volunteer that takes one client at a time is full while a client holds its lease (a sync in progress, or a
/// client that never reported): further users are sent to the next mirror, and staff see the lease against the
/// limit; once the lease is released the nearest mirror is offered again.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class OverloadedMirrorTests(ITestOutputHelper output)
{
    [Fact]
    public Task FullMirrorIsSkippedUntilItsLeaseIsReleased() => ScenarioSwarm.RunAsync(new SwarmPlan
    {
        Volunteers =
        [
            new("busy", 2, "Augsburg, DE", 48.37, 10.90, MaxClients: 1),
            new("spare", 3, "Zurich, CH", 47.37, 8.54, MaxClients: 8),
        ],
    }, output, async swarm =>
    {
        var busy = swarm["busy"];
        var spare = swarm["spare"];

        // Another client is sent to the nearest mirror and takes its only place.
        var held = await swarm.Matching.FindMirrorAsync(new FindMirrorRequest { Protocol = Protocol.Rsync, Count = 1 }, Calls.WithTimeout(TimeSpan.FromSeconds(10)));
        var lease = Assert.Single(held.Candidates);
        Assert.Equal(busy.KeyId, lease.MirrorId);

        Assert.Equal(1, await LeasesHeldAsync(swarm));
        Assert.Equal(1u, (await swarm.MirrorOfAsync(busy)).Leases);

        var repo = await swarm.NewUserRepoAsync();
        var run = await swarm.SyncAsync(repo);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.DoesNotContain(run.Attempts, a => a.Uri == busy.RsyncUri);
        Assert.Equal(spare.RsyncUri, run.Source);
        Assert.Equal(SyncRun.VersionText(swarm.Version), run.Version);
        Assert.Equal(swarm.Version, await swarm.VerifiedVersionOfAsync(repo));
        Assert.DoesNotContain((await swarm.FindAsync()).Candidates, c => c.MirrorId == busy.KeyId);

        // Staff see the lease held against the limit (the admin table's "Load" is connections + leases / limit);
        // ahm-sync's own lease on the spare mirror was released by its report.
        var view = await swarm.AdminCliAsync(ListMirrorsReply.Parser, "mirrors");
        var busyView = view.Mirrors.Single(m => m.KeyId == busy.KeyId);
        Assert.Equal(MirrorState.Online, busyView.State);
        Assert.Equal(1u, busyView.Leases);
        Assert.Equal(1u, busyView.Limits.MaxClients);
        var spareView = view.Mirrors.Single(m => m.KeyId == spare.KeyId);
        Assert.Equal(0u, spareView.Leases);
        Assert.Equal(8u, spareView.Limits.MaxClients);
        var table = await swarm.AdminCliRawAsync("mirrors");
        Assert.Contains("1/1", table.Stdout, StringComparison.Ordinal);
        var stats = await swarm.AdminCliAsync(GetStatsReply.Parser, "stats");
        Assert.Equal(1, stats.Values["ahm_leases_held"]);

        // The other client reports: the place is free, and the next user goes to the nearest mirror again.
        await swarm.Matching.ReportSyncAsync(new ReportSyncRequest { LeaseId = lease.LeaseId, Outcome = SyncOutcome.Abandoned }, Calls.WithTimeout(TimeSpan.FromSeconds(10)));
        Assert.Equal(0, await LeasesHeldAsync(swarm));
        Assert.Equal(0u, (await swarm.MirrorOfAsync(busy)).Leases);
        var next = await swarm.SyncAsync(await swarm.NewUserRepoAsync());
        Assert.True(next.ExitCode == 0, next.ToString());
        Assert.Equal(busy.RsyncUri, next.Source);
    });

    private static async Task<double> LeasesHeldAsync(ScenarioSwarm swarm) =>
        (await swarm.Admin.GetStatsAsync(new GetStatsRequest(), Calls.WithTimeout(TimeSpan.FromSeconds(10)))).Values["ahm_leases_held"];
}
