using AdHocMirror.Contracts.V1;
using AdHocMirror.Coordinator.Geo;
using AdHocMirror.Coordinator.Matching;
using AdHocMirror.Coordinator.Mirrors;
using Google.Protobuf.WellKnownTypes;

namespace AdHocMirror.Coordinator.Tests.Matching;

/// <summary>The grid search must give exactly what a scan of every mirror would, wherever the client is.</summary>
public sealed class MirrorIndexTests
{
    private static readonly DateTimeOffset Old = new(2026, 11, 20, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset New = new(2026, 11, 21, 0, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(50, 3, 100.0, 1)]
    [InlineData(5_000, 3, 100.0, 2)]
    [InlineData(5_000, 8, 25.0, 3)]
    [InlineData(20_000, 1, 500.0, 4)]
    public void SearchAgreesWithAFullScan(int mirrors, int wanted, double similarKm, int seed)
    {
        var random = new Random(seed);
        using var index = new MirrorIndex();
        var views = new List<MirrorView>();
        for (var i = 0; i < mirrors; i++)
        {
            // Clustered like real volunteers (dense spots), plus some anywhere, poles and date line included.
            var (lat, lon) = i % 3 == 0
                ? (random.NextDouble() * 180 - 90, random.NextDouble() * 360 - 180)
                : (48 + random.NextDouble() * 4, 8 + random.NextDouble() * 6);
            var view = Mirror($"m{i}", lat, lon, version: random.Next(4) == 0 ? Old : New, max: 10, active: (uint)random.Next(11));
            views.Add(view);
            index.Apply(new MirrorChange(MirrorChangeKind.Eligible, view));
        }

        for (var probe = 0; probe < 200; probe++)
        {
            var client = probe switch
            {
                0 => new GeoPlace(89.9, 179.9, "near the pole, by the date line"),
                1 => new GeoPlace(-89.9, -180, "south pole"),
                2 => new GeoPlace(0, 179.99, "date line"),
                _ => new GeoPlace(random.NextDouble() * 180 - 90, random.NextDouble() * 360 - 180, "anywhere"),
            };
            var reach = probe % 4 == 0 ? 2_000 : double.PositiveInfinity;

            var got = index.Search(Protocol.Rsync, client, Old.UtcTicks, wanted, reach, similarKm).Take(wanted).Select(f => f.Slot.KeyId).ToList();

            var expected = views
                .Where(v => v.Versions[0].Generated.ToDateTimeOffset() > Old && v.Limits.MaxClients > v.ActiveConnections)
                .Select(v => (v.KeyId, Distance: GreatCircle.DistanceKm(client.Latitude, client.Longitude, v.Location!.Latitude, v.Location.Longitude), Spare: (int)(v.Limits.MaxClients - v.ActiveConnections)))
                .Where(v => v.Distance <= reach)
                .OrderBy(v => Math.Floor(v.Distance / similarKm)).ThenByDescending(v => v.Spare).ThenBy(v => v.Distance)
                .Take(wanted)
                .Select(v => v.KeyId)
                .ToList();
            Assert.True(expected.SequenceEqual(got), $"client ({client.Latitude:F2},{client.Longitude:F2}): expected [{string.Join(",", expected)}] got [{string.Join(",", got)}]");
        }
    }

    /// <summary>
    /// Ranked for a client network (the reveal budget's stable choice), a band is ordered by the network's keyed hash
    /// of each volunteer, not by load: what a network is shown does not move when loads do.
    /// </summary>
    [Theory]
    [InlineData(5_000, 3, 100.0, 11)]
    [InlineData(20_000, 6, 25.0, 12)]
    public void RankedSearchAgreesWithAFullScanAndIgnoresLoad(int mirrors, int wanted, double similarKm, int seed)
    {
        var random = new Random(seed);
        using var index = new MirrorIndex();
        using var reloaded = new MirrorIndex();
        var views = new List<MirrorView>();
        for (var i = 0; i < mirrors; i++)
        {
            var (lat, lon) = i % 3 == 0
                ? (random.NextDouble() * 180 - 90, random.NextDouble() * 360 - 180)
                : (48 + random.NextDouble() * 4, 8 + random.NextDouble() * 6);
            var view = Mirror($"m{i}", lat, lon, version: New, max: 10, active: (uint)random.Next(10));
            views.Add(view);
            index.Apply(new MirrorChange(MirrorChangeKind.Eligible, view));
            reloaded.Apply(new MirrorChange(MirrorChangeKind.Eligible, view with { ActiveConnections = (uint)random.Next(10) }));
        }

        for (var probe = 0; probe < 100; probe++)
        {
            var client = new GeoPlace(random.NextDouble() * 180 - 90, random.NextDouble() * 360 - 180, "anywhere");
            var network = (ulong)random.NextInt64();
            var got = Keys(index.Search(Protocol.Rsync, client, Old.UtcTicks, wanted, double.PositiveInfinity, similarKm, rankSeed: network), wanted);

            var expected = views
                .Select(v => (v.KeyId, Distance: GreatCircle.DistanceKm(client.Latitude, client.Longitude, v.Location!.Latitude, v.Location.Longitude)))
                .OrderBy(v => Math.Floor(v.Distance / similarKm)).ThenBy(v => BestCandidates.Rank(network, MirrorSlot.HashOf(v.KeyId)))
                .Take(wanted)
                .Select(v => v.KeyId)
                .ToList();
            Assert.True(expected.SequenceEqual(got), $"client ({client.Latitude:F2},{client.Longitude:F2}): expected [{string.Join(",", expected)}] got [{string.Join(",", got)}]");
            Assert.Equal(got, Keys(reloaded.Search(Protocol.Rsync, client, Old.UtcTicks, wanted, double.PositiveInfinity, similarKm, rankSeed: network), wanted));
        }

        static List<string> Keys(List<(MirrorSlot Slot, double DistanceKm, ulong KeyHash)> found, int wanted) => found.Take(wanted).Select(f => f.Slot.KeyId).ToList();
    }

    [Fact]
    public void NewestFollowsMirrorsComingAndGoing()
    {
        using var index = new MirrorIndex();
        var a = Mirror("a", 50, 10, Old, 5, 0);
        var b = Mirror("b", 51, 11, New, 5, 0);
        index.Apply(new MirrorChange(MirrorChangeKind.Eligible, a));
        index.Apply(new MirrorChange(MirrorChangeKind.Eligible, b));
        Assert.Equal(New, index.Newest(Protocol.Rsync)!.Generated.ToDateTimeOffset());
        Assert.Equal(2, index.Count(Protocol.Rsync));

        index.Apply(new MirrorChange(MirrorChangeKind.Ineligible, b with { State = MirrorState.Offline }));
        Assert.Equal(Old, index.Newest(Protocol.Rsync)!.Generated.ToDateTimeOffset());
        Assert.Equal(1, index.Count(Protocol.Rsync));
        Assert.Null(index.Newest(Protocol.Git));

        index.Apply(new MirrorChange(MirrorChangeKind.Ineligible, a with { State = MirrorState.Offline }));
        Assert.Null(index.Newest(Protocol.Rsync));
        Assert.Empty(index.Search(Protocol.Rsync, new GeoPlace(50, 10, "x"), long.MinValue, 3, double.PositiveInfinity, 100));
    }

    private static MirrorView Mirror(string key, double lat, double lon, DateTimeOffset version, uint max, uint active) => new(
        key,
        "session-" + key,
        MirrorState.Online,
        new MirrorEndpoints { RsyncUri = $"rsync://{key}.example/gentoo-portage", PingAddress = "127.0.0.1:1" },
        [new TreeVersion { Protocol = Protocol.Rsync, Generated = Timestamp.FromDateTimeOffset(version) }],
        new LoadLimits { MaxClients = max },
        new GeoPoint { Latitude = lat, Longitude = lon },
        key,
        active,
        Old,
        null,
        0,
        0);
}
