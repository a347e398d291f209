using System.Diagnostics;
using AdHocMirror.Contracts;
using AdHocMirror.Contracts.V1;
using AdHocMirror.Coordinator.Matching.Privacy;
using AdHocMirror.Coordinator.Tests.Matching;
using AdHocMirror.Coordinator.Tests.Matching.Privacy;
using AdHocMirror.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AdHocMirror.Coordinator.Tests.Cluster;

/// <summary>
/// The reveal budget on coordinators sharing one PostgreSQL database: a client network sees the same volunteers
/// from any of them, window after window (the windows' clock is moved; everything else runs on the real one),
/// and the database is never on FindMirror's path, so a burst is answered even at a window's turn.
/// </summary>
public sealed class RevealSecretSharingTests(PostgresServer server) : IClassFixture<PostgresServer>
{
    private const int Budget = 3;

    [SkippableFact]
    public async Task Coordinators_starting_together_agree_and_a_network_sees_the_same_volunteers_from_each_across_window_turns()
    {
        var clock = new ManualClock();
        await using var cluster = await StartAsync(nodes: 0, clock);
        // Started at once: both race to create the window's secret in the store.
        await Task.WhenAll(cluster.AddNodeAsync(), cluster.AddNodeAsync(), cluster.AddNodeAsync());
        var windows = cluster.Nodes.Select(n => n.Get<RevealWindows>()).ToList();
        var window = windows[0].Current;
        Assert.All(windows, w => Assert.Equal(windows[0].SecretOf(window), w.SecretOf(window)));

        var volunteers = await AddVolunteersAsync(cluster, 12);
        var first = await SeenAsync(cluster, volunteers);
        // The choice is keyed per network (not everyone gets the same three).
        Assert.True(first.Distinct().Count() > 1, string.Join(" | ", first));

        // Window after window, fetched ahead by each coordinator in the background, still one secret, new choices.
        var before = first;
        for (var turn = 0; turn < 2; turn++)
        {
            var next = windows[0].StartOf(window + 1);
            clock.Advance(next - clock.GetUtcNow() - new PrivacyOptions().RevealSecretLead);
            await RevealWindowSyncTests.AdvanceUntilAsync(clock, () => windows.All(w => w.Knows(window + 1)), next, "every coordinator has the next window's secret before it starts");
            clock.Advance(next - clock.GetUtcNow());
            window++;
            Assert.All(windows, w => Assert.Equal(window, w.Current));
            Assert.All(windows, w => Assert.Equal(windows[0].SecretOf(window), w.SecretOf(window)));
            var after = await SeenAsync(cluster, volunteers);
            Assert.NotEqual(before, after);
            before = after;
        }

        Assert.All(windows, w => Assert.Equal(0, w.LocalWindows));
    }

    [SkippableFact]
    public async Task Four_hundred_concurrent_FindMirror_calls_at_a_window_turn_are_all_answered()
    {
        var clock = new ManualClock();
        await using var cluster = await StartAsync(nodes: 1, clock);
        var node = cluster.Nodes[0];
        var windows = node.Get<RevealWindows>();
        var volunteers = await AddVolunteersAsync(cluster, 6);
        var next = windows.StartOf(windows.Current + 1);
        clock.Advance(next - clock.GetUtcNow() - new PrivacyOptions().RevealSecretLead);
        await RevealWindowSyncTests.AdvanceUntilAsync(clock, () => windows.Knows(windows.Current + 1), next, "the next window's secret is fetched ahead");
        clock.Advance(next - clock.GetUtcNow());

        // 100 networks, 4 calls each (within the default rate limit), all at once, the first of the new window.
        var (answered, elapsed) = await BurstAsync(cluster, node, networks: 100, callsEach: 4);
        Assert.Equal(400, answered.Count);
        Assert.All(answered, a => Assert.InRange(a.Count(volunteers.Contains), 1, Budget));
        Assert.Equal(0, windows.LocalWindows);
        Assert.True(elapsed < TimeSpan.FromSeconds(20), $"the burst took {elapsed}");
    }

    [SkippableFact]
    public async Task With_the_database_away_at_a_window_turn_each_coordinator_answers_with_a_local_secret_and_the_next_window_is_shared_again()
    {
        var clock = new ManualClock();
        await using var cluster = await StartAsync(nodes: 2, clock);
        var windows = cluster.Nodes.Select(n => n.Get<RevealWindows>()).ToList();
        var volunteers = await AddVolunteersAsync(cluster, 6);
        var window = windows[0].Current;

        await server.StopAsync();
        try
        {
            // The fetch ahead fails (and is retried) through the lead; the window starts without its shared secret.
            clock.Advance(windows[0].StartOf(window + 1) - clock.GetUtcNow());
            window++;
            var (answered, _) = await BurstAsync(cluster, cluster.Nodes[0], networks: 25, callsEach: 4);
            Assert.Equal(100, answered.Count);
            (answered, _) = await BurstAsync(cluster, cluster.Nodes[1], networks: 25, callsEach: 4);
            Assert.Equal(100, answered.Count);
            Assert.All(windows, w => Assert.Equal(1, w.LocalWindows));
            Assert.NotEqual(windows[0].SecretOf(window), windows[1].SecretOf(window));
        }
        finally
        {
            await server.StartAsync();
        }

        // Back: the next window's secret is fetched ahead again and agreed on.
        var next = windows[0].StartOf(window + 1);
        clock.Advance(next - clock.GetUtcNow() - new PrivacyOptions().RevealSecretLead);
        await RevealWindowSyncTests.AdvanceUntilAsync(clock, () => windows.All(w => w.Knows(window + 1)), next, "both have the next window's secret once the database is back");
        clock.Advance(next - clock.GetUtcNow());
        Assert.Equal(windows[0].SecretOf(window + 1), windows[1].SecretOf(window + 1));
        Assert.All(windows, w => Assert.Equal(1, w.LocalWindows));
        var seen = await SeenAsync(cluster, volunteers);
        Assert.Equal(5, seen.Count);
    }

    /// <summary>A cluster with the budget on (the fixture turns it off) and the reveal windows on <paramref name="clock"/>.</summary>
    private Task<CoordinatorCluster> StartAsync(int nodes, ManualClock clock) => CoordinatorCluster.StartAsync(
        server,
        nodes,
        deadAfter: TimeSpan.FromSeconds(10),
        configure: o =>
        {
            o.Privacy.RevealBudget = Budget;
            o.Privacy.FindMirrorPerMinute = new PrivacyOptions().FindMirrorPerMinute;
        },
        replace: s => s.AddSingleton(sp => new RevealWindows(sp.GetRequiredService<PrivacyOptions>(), clock, sp.GetRequiredService<ILogger<RevealWindows>>())));

    /// <summary>Volunteers on 127.0.0.10 and up: all placed in Munich with the clients, so only each network's key picks among them.</summary>
    private static async Task<HashSet<string>> AddVolunteersAsync(CoordinatorCluster cluster, int count)
    {
        var keys = new HashSet<string>();
        for (var i = 0; i < count; i++)
        {
            var node = cluster.Nodes[i % cluster.Nodes.Count];
            keys.Add((await cluster.AddMirrorAsync(node, node, host: 10 + i, maxClients: 10_000)).Key.KeyId);
        }

        await Eventually.TrueAsync(() => cluster.Nodes.All(n => keys.All(n.Offers)), "every coordinator offers every volunteer", TimeSpan.FromSeconds(60));
        foreach (var node in cluster.Nodes)
        {
            node.Get<AdHocMirror.Coordinator.Cluster.CapacityShares>().SettleNow();
        }

        return keys;
    }

    /// <summary>
    /// Networks 127.0.1.0/24 to 127.0.5.0/24, each asking every coordinator: the volunteers each shows it (one
    /// string per network after checking the coordinators agree).
    /// </summary>
    private static async Task<List<string>> SeenAsync(CoordinatorCluster cluster, HashSet<string> volunteers)
    {
        var seen = new List<string>();
        for (var net = 1; net <= 5; net++)
        {
            var answers = new List<string>();
            foreach (var node in cluster.Nodes)
            {
                using var channel = GrpcChannels.Create($"http://127.0.0.1:{node.Get<Coordinator.Hosting.CoordinatorListeners>().Public.Server.Port}", new ChannelSettings { LocalAddress = System.Net.IPAddress.Parse($"127.0.{net}.1") });
                var client = new Contracts.V1.Matching.MatchingClient(channel);
                var reply = await client.FindMirrorAsync(Swarm.Find(current: Swarm.V1, count: 8));
                var shown = reply.Candidates.Where(c => volunteers.Contains(c.MirrorId)).ToList();
                Assert.Equal(Budget, shown.Count);
                foreach (var c in shown)
                {
                    await client.ReportSyncAsync(new ReportSyncRequest { LeaseId = c.LeaseId, Outcome = SyncOutcome.Success, Verified = c.Version });
                }

                answers.Add(string.Join(",", shown.Select(c => c.MirrorId).Order()));
            }

            Assert.All(answers, a => Assert.Equal(answers[0], a));
            seen.Add(answers[0]);
        }

        return seen;
    }

    /// <summary>All calls at once, each network from its own channel; what each call was offered, and how long all took.</summary>
    private static async Task<(List<List<string>> Answered, TimeSpan Elapsed)> BurstAsync(CoordinatorCluster cluster, CoordinatorCluster.Node node, int networks, int callsEach)
    {
        _ = cluster;
        var port = node.Get<Coordinator.Hosting.CoordinatorListeners>().Public.Server.Port;
        var channels = Enumerable.Range(1, networks)
            .Select(net => GrpcChannels.Create($"http://127.0.0.1:{port}", new ChannelSettings { LocalAddress = System.Net.IPAddress.Parse($"127.1.{net}.1") }))
            .ToList();
        try
        {
            var watch = Stopwatch.StartNew();
            var calls = channels.SelectMany(channel => Enumerable.Range(0, callsEach).Select(async _ =>
            {
                var reply = await new Contracts.V1.Matching.MatchingClient(channel).FindMirrorAsync(
                    Swarm.Find(current: Swarm.V1, count: 8), deadline: DateTime.UtcNow.AddSeconds(30));
                return reply.Candidates.Select(c => c.MirrorId).ToList();
            })).ToList();
            var answered = await Task.WhenAll(calls);
            return ([.. answered], watch.Elapsed);
        }
        finally
        {
            channels.ForEach(c => c.Dispose());
        }
    }
}
