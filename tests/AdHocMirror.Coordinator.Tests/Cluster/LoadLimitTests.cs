using AdHocMirror.Contracts.V1;
using AdHocMirror.Coordinator.Cluster;
using AdHocMirror.Coordinator.Tests.Matching;
using AdHocMirror.Testing;

namespace AdHocMirror.Coordinator.Tests.Cluster;

/// <summary>The sum of offers for a mirror never exceeds its limit, whatever coordinator answered.</summary>
public sealed class LoadLimitTests(PostgresServer server) : IClassFixture<PostgresServer>
{
    [SkippableFact]
    public async Task Concurrent_FindMirror_spread_over_three_coordinators_never_offers_a_mirror_beyond_its_limit_even_when_a_fourth_joins()
    {
        // Leases outlive the test, so every offer made stays counted. A late heartbeat on a busy machine
        // must not make a coordinator think itself alone while the shares are settled by hand below.
        await using var cluster = await CoordinatorCluster.StartAsync(server, 3, leaseTtl: TimeSpan.FromMinutes(5), deadAfter: TimeSpan.FromMinutes(1));
        var (key, _, _) = await cluster.AddMirrorAsync(cluster.Nodes[0], cluster.Nodes[1], host: 2, maxClients: 10);
        await Eventually.TrueAsync(() => cluster.Nodes.All(n => n.Offers(key.KeyId)), "all offer the mirror", TimeSpan.FromSeconds(5));
        await Eventually.TrueAsync(() => cluster.Nodes.All(n => n.Get<ClusterMembership>().Live.Count == 3), "all see the three", TimeSpan.FromSeconds(10));
        // The first share of a new coordinator waits for the lease TTL; here the shares are set by hand
        // to what they become after it, so the test need not wait five minutes. Settling is only sound
        // once every coordinator holds the same view, as it is after the TTL in production.
        foreach (var node in cluster.Nodes)
        {
            node.Get<CapacityShares>().SettleNow();
        }

        var first = await OffersAsync(cluster, 300, key.KeyId);
        Assert.Equal(10, first); // 4 + 3 + 3: the whole limit, and not one more

        await cluster.AddNodeAsync();
        await Eventually.TrueAsync(() => cluster.Nodes.All(n => n.Get<ClusterMembership>().Live.Count == 4), "all see the fourth", TimeSpan.FromSeconds(10));
        await Eventually.TrueAsync(() => cluster.Nodes[3].Directory.Find(key.KeyId) is not null, "the fourth knows the mirror", TimeSpan.FromSeconds(5));
        var second = await OffersAsync(cluster, 400, key.KeyId);
        Assert.Equal(0, second); // every place is leased; the old shares shrank at once, the new one waits
    }

    [Fact]
    public void Shares_of_every_view_sum_to_the_limit_and_a_change_only_shrinks_until_it_settles()
    {
        var clock = new ManualClock();
        var options = new ClusterOptions { HeartbeatInterval = TimeSpan.FromSeconds(1), ChangePollInterval = TimeSpan.FromMilliseconds(100) };
        string[] ids = ["a", "b", "c", "d"];
        var shares = ids.ToDictionary(id => id, id => new CapacityShares(id, options, TimeSpan.FromSeconds(30), clock));
        var limits = Enumerable.Range(0, 40).ToArray();
        var keys = Enumerable.Range(0, 50).Select(i => $"key{i}").ToArray();

        void View(params string[] live)
        {
            foreach (var id in live)
            {
                shares[id].Update(live);
            }
        }

        int Sum(string key, int limit, params string[] of) => of.Sum(id => shares[id].ShareOf(key, limit));

        View("a", "b", "c");
        Assert.All(keys, k => Assert.All(limits, l => Assert.Equal(0, Sum(k, l, "a", "b", "c")))); // new: nothing until settled
        clock.Advance(TimeSpan.FromSeconds(31));
        Assert.All(keys, k => Assert.All(limits, l => Assert.Equal(l, Sum(k, l, "a", "b", "c"))));

        // d joins; a, b and c see it before d's own view: any mix of old and new views stays within the limit.
        View("a", "b", "c", "d");
        Assert.All(keys, k => Assert.All(limits, l => Assert.InRange(Sum(k, l, "a", "b", "c", "d"), 0, l)));
        clock.Advance(TimeSpan.FromSeconds(31));
        Assert.All(keys, k => Assert.All(limits, l => Assert.Equal(l, Sum(k, l, "a", "b", "c", "d"))));

        // c dies: the survivors grow only after the dead one's leases expired.
        View("a", "b", "d");
        Assert.All(keys, k => Assert.All(limits, l => Assert.InRange(Sum(k, l, "a", "b", "d") + shares["c"].ShareOf(k, l), 0, l)));
        clock.Advance(TimeSpan.FromSeconds(31));
        Assert.All(keys, k => Assert.All(limits, l => Assert.Equal(l, Sum(k, l, "a", "b", "d"))));
        Assert.Equal(1, Sum("key0", 1, "a", "b", "d")); // a limit below the number of coordinators still goes to one of them
    }

    private static async Task<int> OffersAsync(CoordinatorCluster cluster, int calls, string keyId)
    {
        var replies = await Task.WhenAll(Enumerable.Range(0, calls).Select(i =>
            cluster.Nodes[i % cluster.Nodes.Count].Matching.FindMirrorAsync(Swarm.Find(current: Swarm.V1, count: 1)).ResponseAsync));
        return replies.Sum(r => r.Candidates.Count(c => c.MirrorId == keyId));
    }
}
