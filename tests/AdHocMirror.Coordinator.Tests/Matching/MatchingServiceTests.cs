using AdHocMirror.Contracts.V1;
using Grpc.Core;

namespace AdHocMirror.Coordinator.Tests.Matching;

public sealed class MatchingServiceTests
{
    [Fact]
    public async Task NearestMirrorComesFirstAndOfficialIsAlwaysListed()
    {
        await using var swarm = await Swarm.StartAsync();
        var tokyo = await swarm.AddMirrorAsync(4);
        var paris = await swarm.AddMirrorAsync(3);
        var berlin = await swarm.AddMirrorAsync(2);

        var reply = await swarm.Matching.FindMirrorAsync(Swarm.Find(current: Swarm.V1));

        Assert.False(reply.UpToDate);
        Assert.Equal("override", reply.LocationSource);
        Assert.Equal([berlin, paris, tokyo], reply.Candidates.Select(c => c.MirrorId));
        Assert.Equal("Berlin, DE", reply.Candidates[0].Place);
        Assert.InRange(reply.Candidates[0].DistanceKm, 480, 520);
        Assert.All(reply.Candidates, c => Assert.False(string.IsNullOrEmpty(c.LeaseId)));
        Assert.Equal("rsync://127.0.0.2:8873/gentoo-portage", reply.Candidates[0].Uri);
        Assert.Equal(Swarm.V2, reply.Candidates[0].Version.Generated.ToDateTimeOffset());
        Assert.Equal("rsync://127.0.0.250/gentoo-portage", Assert.Single(reply.Official).Uri);
        Assert.Equal(Swarm.V2, reply.Newest.Generated.ToDateTimeOffset());
    }

    [Fact]
    public async Task AmongSimilarDistancesSpareCapacityDecides()
    {
        await using var swarm = await Swarm.StartAsync(o => o.Matching.SimilarDistanceKm = 1000);
        var berlinBusy = await swarm.AddMirrorAsync(2, maxClients: 10, active: 8);
        var viennaIdle = await swarm.AddMirrorAsync(5, maxClients: 10, active: 0);

        var reply = await swarm.Matching.FindMirrorAsync(Swarm.Find(current: Swarm.V1, count: 2));

        // Vienna (≈355 km) and Berlin (≈505 km) share a band: the idle one is offered first.
        Assert.Equal([viennaIdle, berlinBusy], reply.Candidates.Select(c => c.MirrorId));
    }

    [Fact]
    public async Task UpToDateClientGetsNoCandidates()
    {
        await using var swarm = await Swarm.StartAsync();
        await swarm.AddMirrorAsync(2);

        var reply = await swarm.Matching.FindMirrorAsync(Swarm.Find(current: Swarm.V2));

        Assert.True(reply.UpToDate);
        Assert.Empty(reply.Candidates);
        Assert.NotEmpty(reply.Official);
    }

    [Fact]
    public async Task OnlyStrictlyNewerMirrorsOfTheAskedProtocolAreOffered()
    {
        await using var swarm = await Swarm.StartAsync();
        var old = await swarm.AddMirrorAsync(2, rsync: Swarm.V1);
        var fresh = await swarm.AddMirrorAsync(3, rsync: Swarm.V2);
        var gitOnly = await swarm.AddMirrorAsync(5, rsync: null, git: Swarm.V2);

        var rsync = await swarm.Matching.FindMirrorAsync(Swarm.Find(current: Swarm.V1));
        Assert.Equal([fresh], rsync.Candidates.Select(c => c.MirrorId));
        Assert.DoesNotContain(old, rsync.Candidates.Select(c => c.MirrorId));

        var git = await swarm.Matching.FindMirrorAsync(Swarm.Find(Protocol.Git, current: Swarm.V1));
        Assert.Equal([gitOnly], git.Candidates.Select(c => c.MirrorId));
        Assert.StartsWith("git://127.0.0.5", git.Candidates[0].Uri);
        Assert.Equal("git://127.0.0.250/gentoo.git", Assert.Single(git.Official).Uri);

        var empty = await swarm.Matching.FindMirrorAsync(Swarm.Find());
        Assert.Equal(2, empty.Candidates.Count);
    }

    [Fact]
    public async Task LeasesFillAMirrorAndReportOrExpiryFreesIt()
    {
        await using var swarm = await Swarm.StartAsync();
        var berlin = await swarm.AddMirrorAsync(2, maxClients: 3, active: 1);

        var first = await swarm.Matching.FindMirrorAsync(Swarm.Find(current: Swarm.V1, count: 1));
        var second = await swarm.Matching.FindMirrorAsync(Swarm.Find(current: Swarm.V1, count: 1));
        var third = await swarm.Matching.FindMirrorAsync(Swarm.Find(current: Swarm.V1, count: 1));

        // Limit 3 = 1 connection reported by its ping + 2 leases.
        Assert.Equal(berlin, Assert.Single(first.Candidates).MirrorId);
        Assert.Equal(berlin, Assert.Single(second.Candidates).MirrorId);
        Assert.Empty(third.Candidates);

        // Staff see the load: the connections its ping reported and the leases held against its limit.
        var view = (await swarm.Coordinator.Admin.ListMirrorsAsync(new ListMirrorsRequest())).Mirrors.Single(m => m.KeyId == berlin);
        Assert.Equal((1u, 2u, 3u), (view.ActiveConnections, view.Leases, view.Limits.MaxClients));

        await swarm.Matching.ReportSyncAsync(new ReportSyncRequest
        {
            LeaseId = first.Candidates[0].LeaseId,
            Outcome = SyncOutcome.Success,
            Bytes = 1234,
            DurationSeconds = 2.5,
            Verified = first.Candidates[0].Version,
        });
        var afterReport = await swarm.Matching.FindMirrorAsync(Swarm.Find(current: Swarm.V1, count: 1));
        Assert.Equal(berlin, Assert.Single(afterReport.Candidates).MirrorId);
        Assert.Empty((await swarm.Matching.FindMirrorAsync(Swarm.Find(current: Swarm.V1, count: 1))).Candidates);

        // Unreported leases give their place back at their TTL.
        swarm.Coordinator.Clock.Advance(swarm.Coordinator.Options.Matching.LeaseTtl + TimeSpan.FromMinutes(1));
        var afterExpiry = await swarm.Matching.FindMirrorAsync(Swarm.Find(current: Swarm.V1, count: 1));
        Assert.Equal(berlin, Assert.Single(afterExpiry.Candidates).MirrorId);
        Assert.Single((await swarm.Matching.FindMirrorAsync(Swarm.Find(current: Swarm.V1, count: 1))).Candidates);
        Assert.Empty((await swarm.Matching.FindMirrorAsync(Swarm.Find(current: Swarm.V1, count: 1))).Candidates);

        // A late report still counts (no error) but does not free a place twice.
        await swarm.Matching.ReportSyncAsync(new ReportSyncRequest { LeaseId = second.Candidates[0].LeaseId, Outcome = SyncOutcome.Success });
        Assert.Empty((await swarm.Matching.FindMirrorAsync(Swarm.Find(current: Swarm.V1, count: 1))).Candidates);
    }

    [Fact]
    public async Task ConcurrentCallsNeverOverAssignAMirror()
    {
        await using var swarm = await Swarm.StartAsync();
        var berlin = await swarm.AddMirrorAsync(2, maxClients: 7, active: 2);
        var paris = await swarm.AddMirrorAsync(3, maxClients: 4);

        var calls = Enumerable.Range(0, 200).Select(_ => swarm.Matching.FindMirrorAsync(Swarm.Find(current: Swarm.V1, count: 2)).ResponseAsync);
        var replies = await Task.WhenAll(calls);

        var offered = replies.SelectMany(r => r.Candidates).GroupBy(c => c.MirrorId).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(5, offered[berlin]);
        Assert.Equal(4, offered[paris]);
        Assert.All(replies, r => Assert.Equal(r.Candidates.Count, r.Candidates.Select(c => c.MirrorId).Distinct().Count()));
    }

    [Fact]
    public async Task VolunteerIsOfferedOnlyWhenClearlyNearerThanTheNearestOfficial()
    {
        await using var swarm = await Swarm.StartAsync(o => o.Matching.Official =
        [
            // An official mirror in Munich itself: no volunteer can beat it by the margin.
            new() { Name = "official-munich", Uri = "rsync://127.0.0.251/gentoo-portage", Protocol = Protocol.Rsync, Latitude = 48.1, Longitude = 11.6 },
        ]);
        await swarm.AddMirrorAsync(2);

        var reply = await swarm.Matching.FindMirrorAsync(Swarm.Find(current: Swarm.V1));

        Assert.Empty(reply.Candidates);
        Assert.Equal("official-munich", Assert.Single(reply.Official).Name);
        Assert.InRange(reply.Official[0].DistanceKm, 0, 10);
    }

    [Fact]
    public async Task OfficialFarAwayLetsVolunteersBeOffered()
    {
        await using var swarm = await Swarm.StartAsync(o => o.Matching.Official =
        [
            new() { Name = "official-ny", Uri = "rsync://127.0.0.252/gentoo-portage", Protocol = Protocol.Rsync, Latitude = 40.7, Longitude = -74.0 },
        ]);
        var tokyo = await swarm.AddMirrorAsync(4);

        // Tokyo is farther than New York from Munich, but New York is beyond OfficialFarKm.
        var reply = await swarm.Matching.FindMirrorAsync(Swarm.Find(current: Swarm.V1));
        Assert.Equal(tokyo, Assert.Single(reply.Candidates).MirrorId);
    }

    [Fact]
    public async Task HintPlacesAClientThatLocatesNowhere()
    {
        await using var swarm = await Swarm.StartAsync(withoutOverrides: true);
        var tokyo = await swarm.AddMirrorAsync(4);
        var berlin = await swarm.AddMirrorAsync(2);

        var byCountry = Swarm.Find(current: Swarm.V1);
        byCountry.Hint = new LocationHint { CountryCode = "JP" };
        var reply = await swarm.Matching.FindMirrorAsync(byCountry);
        Assert.Equal("hint", reply.LocationSource);
        Assert.Equal([tokyo, berlin], reply.Candidates.Select(c => c.MirrorId));

        var byPoint = Swarm.Find(current: Swarm.V1);
        byPoint.Hint = new LocationHint { Point = new GeoPoint { Latitude = 52.4, Longitude = 13.1 } };
        Assert.Equal(berlin, (await swarm.Matching.FindMirrorAsync(byPoint)).Candidates[0].MirrorId);

        var nowhere = await swarm.Matching.FindMirrorAsync(Swarm.Find(current: Swarm.V1));
        Assert.Equal("none", nowhere.LocationSource);
        Assert.Equal(2, nowhere.Candidates.Count);
    }

    [Fact]
    public async Task VerificationFailuresFromDistinctClientsQuarantineAMirror()
    {
        await using var swarm = await Swarm.StartAsync();
        var berlin = await swarm.AddMirrorAsync(2);
        var paris = await swarm.AddMirrorAsync(3);

        // The same client three times is one client: no quarantine.
        for (var i = 0; i < 3; i++)
        {
            var lease = (await swarm.Matching.FindMirrorAsync(Swarm.Find(current: Swarm.V1, count: 1))).Candidates[0];
            Assert.Equal(berlin, lease.MirrorId);
            await swarm.Matching.ReportSyncAsync(new ReportSyncRequest { LeaseId = lease.LeaseId, Outcome = SyncOutcome.VerificationFailed });
        }

        Assert.Empty((await swarm.Coordinator.Admin.ListQuarantineAsync(new ListQuarantineRequest())).Entries);

        foreach (var host in new[] { 10, 11 })
        {
            var client = swarm.ClientFrom(host);
            var lease = (await client.FindMirrorAsync(Swarm.Find(current: Swarm.V1, count: 1))).Candidates[0];
            Assert.Equal(berlin, lease.MirrorId);
            await client.ReportSyncAsync(new ReportSyncRequest { LeaseId = lease.LeaseId, Outcome = host == 10 ? SyncOutcome.Rollback : SyncOutcome.VerificationFailed });
        }

        var quarantined = Assert.Single((await swarm.Coordinator.Admin.ListQuarantineAsync(new ListQuarantineRequest())).Entries);
        Assert.Equal(berlin, quarantined.KeyId);
        Assert.Equal(3u, quarantined.ReportingClients);
        var after = await swarm.Matching.FindMirrorAsync(Swarm.Find(current: Swarm.V1));
        Assert.Equal([paris], after.Candidates.Select(c => c.MirrorId));
        var audit = await swarm.Coordinator.Admin.ListAuditAsync(new ListAuditRequest());
        Assert.Contains(audit.Entries, e => e.Action == "quarantine" && e.Subject == berlin && e.Actor == "system");
    }

    [Fact]
    public async Task AMirrorNoClientCanConfirmIsQuarantined()
    {
        await using var swarm = await Swarm.StartAsync();
        var berlin = await swarm.AddMirrorAsync(2);

        for (var host = 10; host < 15; host++)
        {
            var client = swarm.ClientFrom(host);
            var lease = (await client.FindMirrorAsync(Swarm.Find(current: Swarm.V1, count: 1))).Candidates[0];
            await client.ReportSyncAsync(new ReportSyncRequest { LeaseId = lease.LeaseId, Outcome = SyncOutcome.Unreachable });
        }

        Assert.Equal(berlin, Assert.Single((await swarm.Coordinator.Admin.ListQuarantineAsync(new ListQuarantineRequest())).Entries).KeyId);
    }

    [Fact]
    public async Task AConfirmedVersionIsNotQuarantinedForUnreachableReports()
    {
        await using var swarm = await Swarm.StartAsync();
        await swarm.AddMirrorAsync(2);
        var ok = (await swarm.Matching.FindMirrorAsync(Swarm.Find(current: Swarm.V1, count: 1))).Candidates[0];
        await swarm.Matching.ReportSyncAsync(new ReportSyncRequest { LeaseId = ok.LeaseId, Outcome = SyncOutcome.Success, Verified = ok.Version });

        for (var host = 10; host < 16; host++)
        {
            var client = swarm.ClientFrom(host);
            var lease = (await client.FindMirrorAsync(Swarm.Find(current: Swarm.V1, count: 1))).Candidates[0];
            await client.ReportSyncAsync(new ReportSyncRequest { LeaseId = lease.LeaseId, Outcome = SyncOutcome.Timeout });
        }

        Assert.Empty((await swarm.Coordinator.Admin.ListQuarantineAsync(new ListQuarantineRequest())).Entries);
    }

    [Fact]
    public async Task SuccessWithAnOlderTreeThanPromisedCountsAsStale()
    {
        await using var swarm = await Swarm.StartAsync();
        var berlin = await swarm.AddMirrorAsync(2);
        for (var host = 10; host < 13; host++)
        {
            var client = swarm.ClientFrom(host);
            var lease = (await client.FindMirrorAsync(Swarm.Find(count: 1))).Candidates[0];
            await client.ReportSyncAsync(new ReportSyncRequest
            {
                LeaseId = lease.LeaseId,
                Outcome = SyncOutcome.Success,
                Verified = Support.CoordinatorFixture.Version(Protocol.Rsync, Swarm.V1),
            });
        }

        Assert.Equal(berlin, Assert.Single((await swarm.Coordinator.Admin.ListQuarantineAsync(new ListQuarantineRequest())).Entries).KeyId);
    }

    [Fact]
    public async Task BadRequestsGetClearStatuses()
    {
        await using var swarm = await Swarm.StartAsync();

        var noProtocol = await Assert.ThrowsAsync<RpcException>(() => swarm.Matching.FindMirrorAsync(new FindMirrorRequest()).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, noProtocol.StatusCode);
        Assert.Contains("protocol", noProtocol.Status.Detail);

        var badHint = Swarm.Find();
        badHint.Hint = new LocationHint { Point = new GeoPoint { Latitude = 123, Longitude = 0 } };
        Assert.Equal(StatusCode.InvalidArgument, (await Assert.ThrowsAsync<RpcException>(() => swarm.Matching.FindMirrorAsync(badHint).ResponseAsync)).StatusCode);

        var noLease = await Assert.ThrowsAsync<RpcException>(() => swarm.Matching.ReportSyncAsync(new ReportSyncRequest { Outcome = SyncOutcome.Success }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, noLease.StatusCode);

        var unknown = await Assert.ThrowsAsync<RpcException>(() => swarm.Matching.ReportSyncAsync(new ReportSyncRequest { LeaseId = "feedface", Outcome = SyncOutcome.Success }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);

        var noMirror = await swarm.Matching.FindMirrorAsync(Swarm.Find());
        Assert.False(noMirror.UpToDate);
        Assert.Empty(noMirror.Candidates);
        Assert.NotEmpty(noMirror.Official);
    }

    [Fact]
    public async Task LoggedOutMirrorLeavesMatchingAtOnce()
    {
        await using var swarm = await Swarm.StartAsync();
        var berlin = await swarm.AddMirrorAsync(2);
        Assert.Single((await swarm.Matching.FindMirrorAsync(Swarm.Find(current: Swarm.V1))).Candidates);

        await swarm.Coordinator.Admin.RevokeKeyAsync(new RevokeKeyRequest { KeyId = berlin, Reason = "test" });

        Assert.Empty((await swarm.Matching.FindMirrorAsync(Swarm.Find(current: Swarm.V1))).Candidates);
    }
}
