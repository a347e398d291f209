using System.Net;
using AdHocMirror.Contracts.V1;
using AdHocMirror.Coordinator.Geo;
using AdHocMirror.Coordinator.Matching;
using AdHocMirror.Coordinator.Matching.Privacy;
using AdHocMirror.Coordinator.Mirrors;
using AdHocMirror.Coordinator.Storage;
using AdHocMirror.Testing;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Logging.Abstractions;

namespace AdHocMirror.Coordinator.Tests.Matching.Privacy;

/// <summary>The reveal budget on the matching domain classes, at sweep scale: thousands of mirrors, calls and networks.</summary>
public sealed class RevealBudgetTests
{
    private static readonly DateTimeOffset Old = new(2026, 11, 20, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset New = new(2026, 11, 21, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_sweep_from_one_network_over_a_thousand_hints_reveals_no_more_than_the_budget()
    {
        using var world = new World(mirrors: 5_000);
        var random = new Random(3);
        var hints = Enumerable.Range(0, 1_000).Select(_ => new LocationHint
        {
            Point = new GeoPoint { Latitude = (random.NextDouble() * 170) - 85, Longitude = (random.NextDouble() * 360) - 180 },
        }).ToArray();

        // 198.51.100.0/24 locates nowhere, so every hint is taken as given: the sweeper's best case.
        var seen = new HashSet<string>();
        for (var call = 0; call < 10_000; call++)
        {
            var peer = IPAddress.Parse($"198.51.100.{call % 256}");
            seen.UnionWith(world.Ask(peer, hints[call % hints.Length], count: 8));
        }

        Assert.Equal(8, seen.Count);

        // A second network sees volunteers of its own, within its own budget.
        var other = new HashSet<string>();
        for (var call = 0; call < 1_000; call++)
        {
            other.UnionWith(world.Ask(IPAddress.Parse("198.51.101.9"), hints[call], count: 8));
        }

        // Its own budget: the first network's spent one does not hold it back (both may well see the same
        // volunteers: the first hint of each sweep is the same place).
        Assert.Equal(8, other.Count);
    }

    [Fact]
    public void An_honest_client_gets_the_nearest_and_after_a_failure_another()
    {
        using var world = new World(mirrors: 5_000);
        var munich = IPAddress.Parse("203.0.113.9");
        var first = world.AskPlaced(munich, count: 3);
        var nearest = world.NearestKm(48.14, 11.58);
        Assert.Equal(3, first.Count);
        Assert.True(first[0].DistanceKm < nearest + 100, $"first offer {first[0].DistanceKm:F0} km away, the nearest is {nearest:F0} km");

        // The same again on asking again.
        Assert.Equal(first.Select(f => f.KeyId), world.AskPlaced(munich, count: 3).Select(f => f.KeyId));

        world.Budget.RecordFailure(world.Networks.Of(munich), first[0].KeyId);
        var again = world.AskPlaced(munich, count: 3);
        Assert.Equal(3, again.Count);
        Assert.DoesNotContain(first[0].KeyId, again.Select(a => a.KeyId));
        Assert.Equal(first.Skip(1).Select(f => f.KeyId).Order(), again.Select(a => a.KeyId).Intersect(first.Select(f => f.KeyId)).Order());
    }

    [Fact]
    public async Task Coordinators_sharing_one_store_show_a_network_the_same_volunteers()
    {
        using var dir = new TempDir("ahm-reveal");
        using var storeA = new SqliteCoordinatorStore(Path.Combine(dir.Path, "coordinator.db"));
        using var storeB = new SqliteCoordinatorStore(Path.Combine(dir.Path, "coordinator.db"));
        await storeA.OpenAsync();
        await storeB.OpenAsync();
        var clock = new ManualClock();

        // Dense volunteers, all in one band around the client: only the window's key decides which it sees.
        using var a = new World(mirrors: 2_000, storeA, clock, dense: true);
        using var b = new World(mirrors: 2_000, storeB, clock, dense: true);
        Assert.True(await a.Sync.FetchAsync(a.Windows.Current, CancellationToken.None));
        Assert.True(await b.Sync.FetchAsync(b.Windows.Current, CancellationToken.None));
        for (var net = 0; net < 20; net++)
        {
            var peer = IPAddress.Parse($"203.0.{net}.7");
            Assert.Equal(a.AskPlaced(peer, 3).Select(f => f.KeyId).Order(), b.AskPlaced(peer, 3).Select(f => f.KeyId).Order());
        }

        // A new window: other choices (each network picks 3 of the 16 nearest: the same again by chance is 1 in 560).
        var before = Enumerable.Range(0, 5).Select(net => string.Join(",", a.AskPlaced(IPAddress.Parse($"203.0.{net}.7"), 3).Select(f => f.KeyId).Order())).ToList();
        Assert.True(await a.Sync.FetchAsync(a.Windows.Current + 1, CancellationToken.None));
        clock.Advance(TimeSpan.FromHours(1));
        Assert.Equal(0, a.Windows.LocalWindows);
        var after = Enumerable.Range(0, 5).Select(net => string.Join(",", a.AskPlaced(IPAddress.Parse($"203.0.{net}.7"), 3).Select(f => f.KeyId).Order())).ToList();
        Assert.NotEqual(before, after);
    }

    [Fact]
    public void Memory_is_bounded_by_forgetting_the_oldest_network_which_then_gets_the_same_choice_again()
    {
        using var world = new World(mirrors: 2_000, maxNetworks: 160, dense: true);
        var first = world.AskPlaced(IPAddress.Parse("203.0.113.9"), 3).Select(f => f.KeyId).Order().ToList();
        for (var net = 0; net < 10_000; net++)
        {
            world.Ask(IPAddress.Parse($"10.{net / 256}.{net % 256}.1"), null, count: 1);
        }

        Assert.True(world.Budget.Networks <= 160, $"{world.Budget.Networks} networks remembered");
        Assert.True(world.Budget.Evicted > 9_000);
        Assert.Equal(first, world.AskPlaced(IPAddress.Parse("203.0.113.9"), 3).Select(f => f.KeyId).Order());
    }

    [Fact]
    public void The_rate_limit_refills_at_its_rate_and_says_how_long_to_wait()
    {
        var clock = new ManualClock();
        var options = new PrivacyOptions { FindMirrorPerMinute = 20 };
        var limit = new FindMirrorRateLimit(options, clock);
        var network = new ClientNetworks(new RevealWindows(options, clock, NullLogger<RevealWindows>.Instance)).Of(IPAddress.Parse("192.0.2.1"));
        for (var i = 0; i < 20; i++)
        {
            Assert.True(limit.TryTake(network, out _));
        }

        Assert.False(limit.TryTake(network, out var wait));
        Assert.Equal(TimeSpan.FromSeconds(3), wait);
        clock.Advance(TimeSpan.FromSeconds(3));
        Assert.True(limit.TryTake(network, out _));
        Assert.False(limit.TryTake(network, out _));
    }

    [Fact]
    public void Rate_limit_and_budget_keep_one_record_per_network()
    {
        var clock = new ManualClock();
        // 100 networks per shard: two networks never push each other out, and 3,200 more surely fill the first one's shard.
        var options = new PrivacyOptions { FindMirrorPerMinute = 2, RevealBudget = 2, MaxNetworks = 1_600 };
        var records = new NetworkRecords(options);
        var limit = new FindMirrorRateLimit(options, clock, records);
        var budget = new RevealBudget(options, records);
        var networks = new ClientNetworks(new RevealWindows(options, clock, NullLogger<RevealWindows>.Instance));
        var a = networks.Of(IPAddress.Parse("192.0.2.1"));
        var b = networks.Of(IPAddress.Parse("198.51.100.1"));

        // A call admitted by the rate limit hands its record to the budget: one record, one lookup.
        var slot = MatchingPrivacy.NoRecord;
        Assert.True(limit.TryTake(a, ref slot, out _));
        Assert.NotEqual(MatchingPrivacy.NoRecord, slot);
        Assert.True(budget.TryReveal(a, ref slot, "v1"));
        Assert.Equal(["v1"], budget.View(a).Known);
        Assert.True(limit.TryTake(a, out _));
        Assert.False(limit.TryTake(a, out var wait)); // the reveals did not touch its bucket
        Assert.Equal(TimeSpan.FromSeconds(30), wait);

        // A record the budget made first (a failure report) starts its bucket full all the same.
        budget.RecordFailure(b, "v9");
        Assert.True(limit.TryTake(b, out _));
        Assert.True(limit.TryTake(b, out _));
        Assert.False(limit.TryTake(b, out _));

        Assert.Equal(2, records.Count);
        Assert.Equal((2, 2), (limit.Networks, budget.Networks));

        // At the cap the oldest network is forgotten by both at once: a fresh bucket and a fresh budget.
        for (var i = 0; i < 3_200; i++)
        {
            Assert.True(limit.TryTake(networks.Of(IPAddress.Parse($"10.{i / 256}.{i % 256}.1")), out _));
        }

        Assert.Equal(1_600, records.Count);
        Assert.True(records.Evicted >= 1_600);
        Assert.Empty(budget.View(a).Known);
        Assert.True(limit.TryTake(a, out _));
    }

    /// <summary>An index of made-up mirrors, the budget, and the picker, as the coordinator composes them; 203.0.0.0/16 is in Munich.</summary>
    private sealed class World : IDisposable
    {
        private readonly MirrorIndex _index = new();
        private readonly LeaseBook _leases;
        private readonly CandidatePicker _picker;
        private readonly Locator _locator = new(new LocationOverrides(["203.0.0.0/16 = 48.14,11.58 Munich, DE"]), null);
        private readonly List<(string KeyId, double Lat, double Lon)> _mirrors = [];

        public World(int mirrors, IRevealSecrets? secrets = null, ManualClock? clock = null, int maxNetworks = 100_000, bool dense = false)
        {
            clock ??= new ManualClock();
            var matching = new MatchingOptions();
            var privacy = new PrivacyOptions { RevealBudget = 8, MaxNetworks = maxNetworks };
            _leases = new LeaseBook(matching, clock);
            Budget = new RevealBudget(privacy);
            Windows = new RevealWindows(privacy, clock, NullLogger<RevealWindows>.Instance);
            Sync = new RevealWindowSync(Windows, secrets ?? new MemoryRevealSecrets(), privacy, NullLogger<RevealWindowSync>.Instance);
            Networks = new ClientNetworks(Windows);
            _picker = new CandidatePicker(_index, _leases, matching, Budget);
            var random = new Random(42);
            for (var i = 0; i < mirrors; i++)
            {
                var (lat, lon) = dense
                    ? (48.14 + (random.NextDouble() * 0.4), 11.58 + (random.NextDouble() * 0.4))
                    : ((random.NextDouble() * 140) - 60, (random.NextDouble() * 360) - 180);
                var key = i.ToString("x32", System.Globalization.CultureInfo.InvariantCulture);
                _mirrors.Add((key, lat, lon));
                _index.Apply(new MirrorChange(MirrorChangeKind.Eligible, new MirrorView(
                    key, "s" + key, MirrorState.Online,
                    new MirrorEndpoints { RsyncUri = $"rsync://m{i}.example/gentoo-portage", PingAddress = "192.0.2.1:1" },
                    [new TreeVersion { Protocol = Protocol.Rsync, Generated = Timestamp.FromDateTimeOffset(New) }],
                    new LoadLimits { MaxClients = 1_000_000 },
                    new GeoPoint { Latitude = lat, Longitude = lon }, key, 0, Old, null, 0, 0)));
            }
        }

        public RevealBudget Budget { get; }

        public ClientNetworks Networks { get; }

        public RevealWindows Windows { get; }

        /// <summary>Not started: a test fetches the windows' secrets as the coordinator's background service would.</summary>
        public RevealWindowSync Sync { get; }

        public double NearestKm(double lat, double lon) => _mirrors.Min(m => GreatCircle.DistanceKm(lat, lon, m.Lat, m.Lon));

        /// <summary>One FindMirror's choice, its leases given back at once (as reports would).</summary>
        public List<string> Ask(IPAddress peer, LocationHint? hint, int count) => Pick(peer, hint, count).Select(o => o.KeyId).ToList();

        public List<(string KeyId, double DistanceKm)> AskPlaced(IPAddress peer, int count) => Pick(peer, null, count);

        private List<(string KeyId, double DistanceKm)> Pick(IPAddress peer, LocationHint? hint, int count)
        {
            var (place, _) = _locator.LocateClient(peer, hint);
            var offered = _picker.Pick(Protocol.Rsync, place, Networks.Of(peer), Old.UtcTicks, count, double.PositiveInfinity, out _);
            foreach (var o in offered)
            {
                _leases.Complete(Lease.Format(o.Lease.Id));
            }

            return offered.Select(o => (o.Slot.KeyId, o.DistanceKm)).ToList();
        }

        public void Dispose()
        {
            Sync.Dispose();
            _index.Dispose();
            _leases.Dispose();
        }
    }
}
