using System.Diagnostics;
using System.Globalization;
using AdHocMirror.Contracts;
using AdHocMirror.Contracts.V1;
using AdHocMirror.Coordinator.Tests.Matching;
using AdHocMirror.Coordinator.Tests.Support;
using AdHocMirror.Testing;

namespace AdHocMirror.Coordinator.Tests.Cluster;

/// <summary>Real coordinator processes on one database: pinging taken over after kill -9, and load limits under concurrency.</summary>
public sealed class TakeoverTests(PostgresServer server, Xunit.Abstractions.ITestOutputHelper output) : IClassFixture<PostgresServer>
{
    [SkippableFact]
    public async Task Kill_9_of_the_coordinator_that_pings_a_volunteer_hands_it_to_another_within_two_ping_intervals_and_it_stays_offered()
    {
        Skip.If(PostgresServer.SkipReason is not null, PostgresServer.SkipReason);
        await using var cluster = await CoordinatorProcesses.StartAsync(server, 3);
        await using var mirror = new FakeMirror();
        await mirror.StartAsync();
        var nodes = cluster.Nodes;
        var key = await nodes[0].Registry.RegisterAsync(new RegisterRequest { Software = "test" });
        mirror.Accept(await nodes[0].Sessions.LoginAsync(CoordinatorFixture.Login(mirror.Port), CoordinatorFixture.With(key)));
        await Eventually.TrueAsync(
            async () => (await Task.WhenAll(nodes.Select(n => n.Admin!.ListMirrorsAsync(new ListMirrorsRequest { States = { MirrorState.Online } }).ResponseAsync))).All(r => r.Mirrors.Count == 1),
            "online at all three", TimeSpan.FromSeconds(10));

        // Which one pings it: its heartbeat row counts the session.
        await Eventually.TrueAsync(async () => (await nodes[0].Admin!.GetStatsAsync(new GetStatsRequest())).Coordinators.Sum(c => c.Sessions) == 1, "the pinger's heartbeat counts it", TimeSpan.FromSeconds(5));
        var pinger = Assert.Single((await nodes[0].Admin!.GetStatsAsync(new GetStatsRequest())).Coordinators, c => c.Sessions == 1);
        var victim = nodes.FindIndex(n => pinger.AdminAddress.EndsWith(":" + n.AdminPort.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal));
        Assert.True(victim >= 0, $"no node with admin address {pinger.AdminAddress}");

        await nodes[victim].KillAsync();
        var killed = Stopwatch.StartNew();
        var pingsAtKill = mirror.Pings;
        var survivor = nodes[(victim + 1) % 3].Admin!;
        await Eventually.TrueAsync(
            async () => mirror.Pings > pingsAtKill && (await survivor.GetStatsAsync(new GetStatsRequest())).Coordinators.Any(c => c.Id != pinger.Id && c.Sessions == 1),
            "another coordinator pings the volunteer", CoordinatorProcesses.PingInterval * 2);
        Assert.True(killed.Elapsed < CoordinatorProcesses.PingInterval * 2, $"taken over after {killed.Elapsed}");
        output.WriteLine($"pinged by another coordinator {killed.Elapsed.TotalSeconds:0.0} s after kill -9 (ping interval {CoordinatorProcesses.PingInterval.TotalSeconds} s)");

        // It never left matching at the survivors, and one survivor pings it, about once per interval.
        foreach (var node in nodes.Where((_, i) => i != victim))
        {
            Assert.Single((await node.Admin!.ListMirrorsAsync(new ListMirrorsRequest { States = { MirrorState.Online } })).Mirrors);
        }

        var before = mirror.Pings;
        await Task.Delay(CoordinatorProcesses.PingInterval * 2);
        Assert.InRange(mirror.Pings - before, 1, 3);
        Assert.Contains((await survivor.GetStatsAsync(new GetStatsRequest())).Coordinators, c => c.Id == pinger.Id && !c.Live);
    }

    [SkippableFact]
    public async Task A_thousand_concurrent_FindMirror_spread_over_three_coordinators_make_no_offer_beyond_a_limit()
    {
        Skip.If(PostgresServer.SkipReason is not null, PostgresServer.SkipReason);
        await using var cluster = await CoordinatorProcesses.StartAsync(
            server, 3, "--lease-ttl", "10m", "--location-override", "127.0.0.0/8 = 48.14,11.58 Munich, DE", "--official", "official-rsync rsync://127.0.0.250/gentoo-portage -45,170");
        var nodes = cluster.Nodes;
        uint[] limits = [10, 7, 3, 1];
        var mirrors = new List<FakeMirror>();
        var limitOf = new Dictionary<string, uint>();
        try
        {
            for (var i = 0; i < limits.Length; i++)
            {
                var mirror = new FakeMirror();
                mirrors.Add(mirror);
                await mirror.StartAsync();
                var at = nodes[i % nodes.Count];
                var key = await at.Registry.RegisterAsync(new RegisterRequest { Software = "test" });
                var login = CoordinatorFixture.Login(mirror.Port, maxClients: limits[i]);
                login.Versions.Clear();
                login.Versions.Add(CoordinatorFixture.Version(Protocol.Rsync, Swarm.V2));
                mirror.Versions.AddRange(login.Versions);
                mirror.Accept(await at.Sessions.LoginAsync(login, CoordinatorFixture.With(key)));
                limitOf[key.KeyId] = limits[i];
            }

            await Eventually.TrueAsync(
                async () => (await Task.WhenAll(nodes.Select(n => n.Admin!.ListMirrorsAsync(new ListMirrorsRequest { States = { MirrorState.Online } }).ResponseAsync))).All(r => r.Mirrors.Count == limits.Length),
                "all mirrors online at all three", TimeSpan.FromSeconds(15));

            var replies = await Task.WhenAll(Enumerable.Range(0, 1000).Select(i => nodes[i % 3].Matching.FindMirrorAsync(Swarm.Find(current: Swarm.V1, count: 3)).ResponseAsync));
            var finished = DateTimeOffset.UtcNow;
            var offers = replies.SelectMany(r => r.Candidates).ToList();
            Assert.All(offers, o => Assert.True(o.LeaseExpiresAt.ToDateTimeOffset() > finished, "every lease is still held: all offers count at once"));
            var perMirror = offers.GroupBy(o => o.MirrorId).ToDictionary(g => g.Key, g => g.Count());
            foreach (var (keyId, limit) in limitOf)
            {
                Assert.True(perMirror.GetValueOrDefault(keyId) <= limit, $"mirror with limit {limit} offered {perMirror.GetValueOrDefault(keyId)} times");
            }

            Assert.NotEmpty(offers);
            output.WriteLine($"1000 FindMirror: {offers.Count} offers; per mirror (offers/limit): {string.Join(", ", limitOf.Select(p => $"{perMirror.GetValueOrDefault(p.Key)}/{p.Value}"))}");
        }
        finally
        {
            foreach (var mirror in mirrors)
            {
                await mirror.DisposeAsync();
            }
        }
    }
}
