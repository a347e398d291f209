using AdHocMirror.Contracts.V1;
using AdHocMirror.Coordinator.Matching.Privacy;
using AdHocMirror.Coordinator.Observability;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;

namespace AdHocMirror.Coordinator.Tests.Matching.Privacy;

/// <summary>
/// Volunteers' privacy over real gRPC: rate limit, reveal budget, hints that cannot move a client, and
/// volunteers' reach. Client networks are loopback /24s (127.0.0.0/24 is Munich, DE; others as placed here).
/// </summary>
public sealed class FindMirrorPrivacyTests
{
    private static readonly string[] Networks =
    [
        "127.0.2.0/24 = 48.86,2.35 Paris, FR",
        "127.0.3.0/24 = 48.14,11.58 somewhere unnamed",
        "127.0.4.0/24 = 48.14,11.58 Munich, DE",
    ];

    [Fact]
    public async Task BurstsBeyondTheRateLimitGetResourceExhaustedWithRetryPushback()
    {
        await using var swarm = await Swarm.StartAsync(o => o.Privacy.FindMirrorPerMinute = 5);
        await swarm.AddMirrorAsync(2);

        for (var i = 0; i < 5; i++)
        {
            Assert.Single((await swarm.Matching.FindMirrorAsync(Swarm.Find(current: Swarm.V1))).Candidates);
        }

        var refused = await Assert.ThrowsAsync<RpcException>(async () => await swarm.Matching.FindMirrorAsync(Swarm.Find(current: Swarm.V1)));
        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        Assert.Contains("5 per minute", refused.Status.Detail);
        Assert.Equal("12000", refused.Trailers.GetValue("grpc-retry-pushback-ms")); // one call's worth at 5 a minute

        // Another network is not held back; this one may ask again once the wait is over.
        Assert.Single((await swarm.ClientFrom("127.0.4.1").FindMirrorAsync(Swarm.Find(current: Swarm.V1))).Candidates);
        swarm.Coordinator.Clock.Advance(TimeSpan.FromSeconds(12));
        Assert.Single((await swarm.Matching.FindMirrorAsync(Swarm.Find(current: Swarm.V1))).Candidates);

        // As composed, rate limit and budget keep one shared record per network: two networks asked, two records.
        Assert.Equal(2, swarm.Coordinator.Host.Services.GetRequiredService<NetworkRecords>().Count);

        var metrics = swarm.Coordinator.Host.Services.GetRequiredService<CoordinatorMetrics>().Flatten();
        // Each refused attempt counts; a client whose retry policy covers RESOURCE_EXHAUSTED tries again after the pushback.
        Assert.True(metrics["ahm_findmirror_refusals_total{cause=\"rate_limited\"}"] >= 1);
    }

    [Fact]
    public async Task ANetworkSeesAtMostItsBudgetAndTheSameVolunteersAgain()
    {
        await using var swarm = await Swarm.StartAsync(o =>
        {
            o.Privacy.RevealBudget = 2;
            o.Geo.Overrides.AddRange(Networks);
        });
        foreach (var host in (int[])[2, 3, 4, 5, 6])
        {
            await swarm.AddMirrorAsync(host, maxClients: 1_000);
        }

        var seen = new HashSet<string>();
        var first = (await swarm.Matching.FindMirrorAsync(Swarm.Find(current: Swarm.V1, count: 8))).Candidates.Select(c => c.MirrorId).ToList();
        Assert.Equal(2, first.Count);
        foreach (var (lat, lon) in ((double, double)[])[(35.7, 139.7), (40.7, -74.0), (-33.9, 151.2), (48.9, 2.4), (0, 0)])
        {
            var request = Swarm.Find(current: Swarm.V1, count: 8);
            request.Hint = new LocationHint { Point = new GeoPoint { Latitude = lat, Longitude = lon } };
            var reply = await swarm.ClientFrom($"127.0.0.{seen.Count + 20}").FindMirrorAsync(request);
            seen.UnionWith(reply.Candidates.Select(c => c.MirrorId));
            Assert.Equal(first.Order(), reply.Candidates.Select(c => c.MirrorId).Order());
        }

        Assert.Equal(2, seen.Count);
        Assert.True(swarm.Coordinator.Host.Services.GetRequiredService<CoordinatorMetrics>().Flatten()["ahm_findmirror_refusals_total{cause=\"budget_spent\"}"] > 0);

        // Another network has its own budget.
        var paris = await swarm.ClientFrom("127.0.2.1").FindMirrorAsync(Swarm.Find(current: Swarm.V1, count: 8));
        Assert.Equal(2, paris.Candidates.Count);
        Assert.Equal("Paris, FR", paris.Candidates[0].Place);

        // A failure reported from the network takes that volunteer away from it; the budget is spent, so nothing new comes.
        var failing = await swarm.Matching.FindMirrorAsync(Swarm.Find(current: Swarm.V1, count: 1));
        await swarm.Matching.ReportSyncAsync(new ReportSyncRequest { LeaseId = failing.Candidates[0].LeaseId, Outcome = SyncOutcome.Unreachable });
        var after = await swarm.Matching.FindMirrorAsync(Swarm.Find(current: Swarm.V1, count: 8));
        Assert.Equal(first.Single(id => id != failing.Candidates[0].MirrorId), Assert.Single(after.Candidates).MirrorId);
    }

    [Fact]
    public async Task AnHonestClientGetsTheNearestAndAfterAFailureAnother()
    {
        await using var swarm = await Swarm.StartAsync(o => o.Privacy.RevealBudget = 8);
        var berlin = await swarm.AddMirrorAsync(2);
        var paris = await swarm.AddMirrorAsync(3);
        var vienna = await swarm.AddMirrorAsync(5);
        var tokyo = await swarm.AddMirrorAsync(4);

        var reply = await swarm.Matching.FindMirrorAsync(Swarm.Find(current: Swarm.V1, count: 2));
        Assert.Equal([vienna, berlin], reply.Candidates.Select(c => c.MirrorId));

        await swarm.Matching.ReportSyncAsync(new ReportSyncRequest { LeaseId = reply.Candidates[0].LeaseId, Outcome = SyncOutcome.VerificationFailed });
        var again = await swarm.Matching.FindMirrorAsync(Swarm.Find(current: Swarm.V1, count: 2));
        Assert.Equal([berlin, paris], again.Candidates.Select(c => c.MirrorId));
        Assert.DoesNotContain(tokyo, again.Candidates.Select(c => c.MirrorId));
    }

    [Fact]
    public async Task AHintFarFromWhereTheAddressPlacesTheClientIsIgnored()
    {
        await using var swarm = await Swarm.StartAsync();
        var berlin = await swarm.AddMirrorAsync(2);
        var tokyo = await swarm.AddMirrorAsync(4);

        var far = Swarm.Find(current: Swarm.V1);
        far.Hint = new LocationHint { Point = new GeoPoint { Latitude = 35.7, Longitude = 139.7 }, CountryCode = "JP" };
        var ignored = await swarm.Matching.FindMirrorAsync(far);
        Assert.Equal("override-hint-ignored", ignored.LocationSource);
        Assert.Equal(48.1, ignored.ClientLocation.Latitude);
        Assert.Equal(berlin, ignored.Candidates[0].MirrorId);

        var otherCountry = Swarm.Find(current: Swarm.V1);
        otherCountry.Hint = new LocationHint { CountryCode = "JP" };
        Assert.Equal("override-hint-ignored", (await swarm.Matching.FindMirrorAsync(otherCountry)).LocationSource);

        var sameCountry = Swarm.Find(current: Swarm.V1);
        sameCountry.Hint = new LocationHint { CountryCode = "de" };
        Assert.Equal("override", (await swarm.Matching.FindMirrorAsync(sameCountry)).LocationSource);

        // Augsburg, 60 km from Munich: a near hint refines the place.
        var near = Swarm.Find(current: Swarm.V1);
        near.Hint = new LocationHint { Point = new GeoPoint { Latitude = 48.37, Longitude = 10.90 } };
        var refined = await swarm.Matching.FindMirrorAsync(near);
        Assert.Equal("hint", refined.LocationSource);
        Assert.Equal(48.4, refined.ClientLocation.Latitude);

        var metrics = swarm.Coordinator.Host.Services.GetRequiredService<CoordinatorMetrics>().Flatten();
        Assert.Equal(2, metrics["ahm_findmirror_refusals_total{cause=\"hint_ignored\"}"]);
        Assert.NotEqual(tokyo, refined.Candidates[0].MirrorId);
    }

    [Fact]
    public async Task AHintIsHonouredAsGivenWhenTheAddressLocatesNowhere()
    {
        await using var swarm = await Swarm.StartAsync(withoutOverrides: true);
        await swarm.AddMirrorAsync(2);
        var tokyo = await swarm.AddMirrorAsync(4);

        var request = Swarm.Find(current: Swarm.V1);
        request.Hint = new LocationHint { Point = new GeoPoint { Latitude = 35.7, Longitude = 139.7 } };
        var reply = await swarm.Matching.FindMirrorAsync(request);
        Assert.Equal("hint", reply.LocationSource);
        Assert.Equal(tokyo, reply.Candidates[0].MirrorId);
    }

    [Fact]
    public async Task ACountryReachIsNeverOfferedAcrossTheBorder()
    {
        await using var swarm = await Swarm.StartAsync(o => o.Geo.Overrides.AddRange(Networks));
        var berlin = await swarm.AddMirrorAsync(2, serveTo: new ServeTo { Reach = ServeTo.Types.Reach.Country });
        var paris = await swarm.AddMirrorAsync(3, serveTo: new ServeTo { Reach = ServeTo.Types.Reach.Country });
        var vienna = await swarm.AddMirrorAsync(5, serveTo: new ServeTo { Reach = ServeTo.Types.Reach.Continent });

        async Task<List<string>> OfferedTo(string address) =>
            (await swarm.ClientFrom(address).FindMirrorAsync(Swarm.Find(current: Swarm.V1, count: 8))).Candidates.Select(c => c.MirrorId).ToList();

        Assert.Equal([vienna, berlin], await OfferedTo("127.0.0.1"));   // Munich, DE
        Assert.Equal([paris, vienna], await OfferedTo("127.0.2.1"));    // Paris, FR
        Assert.Empty(await OfferedTo("127.0.3.1"));                     // placed, but in no known country

        // A hint cannot carry a German client over the border either.
        var request = Swarm.Find(current: Swarm.V1, count: 8);
        request.Hint = new LocationHint { Point = new GeoPoint { Latitude = 48.86, Longitude = 2.35 }, CountryCode = "FR" };
        Assert.DoesNotContain(paris, (await swarm.Matching.FindMirrorAsync(request)).Candidates.Select(c => c.MirrorId));
    }

    [Fact]
    public async Task ARadiusReachIsHonoured()
    {
        await using var swarm = await Swarm.StartAsync(o => o.Geo.Overrides.AddRange(Networks));
        var vienna = await swarm.AddMirrorAsync(5, serveTo: new ServeTo { Reach = ServeTo.Types.Reach.Radius, RadiusKm = 400 }); // Munich is 355 km away
        await swarm.AddMirrorAsync(2, serveTo: new ServeTo { Reach = ServeTo.Types.Reach.Radius, RadiusKm = 300 });             // Berlin, 504 km

        var munich = await swarm.Matching.FindMirrorAsync(Swarm.Find(current: Swarm.V1, count: 8));
        Assert.Equal(vienna, Assert.Single(munich.Candidates).MirrorId);
        Assert.Empty((await swarm.ClientFrom("127.0.2.1").FindMirrorAsync(Swarm.Find(current: Swarm.V1, count: 8))).Candidates);
    }

    [Theory]
    [InlineData(4, 0u, "serve_to.radius_km")]
    [InlineData(4, 20_001u, "serve_to.radius_km")]
    [InlineData(3, 10u, "serve_to.radius_km")]
    [InlineData(9, 0u, "serve_to.reach")]
    public async Task LoginRefusesABadReach(int reach, uint radius, string field)
    {
        await using var swarm = await Swarm.StartAsync();
        var key = await swarm.Coordinator.RegisterAsync();
        var login = Support.CoordinatorFixture.Login(7472);
        login.ServeTo = new ServeTo { Reach = (ServeTo.Types.Reach)reach, RadiusKm = radius };
        var refused = await Assert.ThrowsAsync<RpcException>(async () => await swarm.Coordinator.Sessions.LoginAsync(login, Support.CoordinatorFixture.With(key)));
        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        Assert.Contains(field, refused.Status.Detail, StringComparison.Ordinal);
    }
}
