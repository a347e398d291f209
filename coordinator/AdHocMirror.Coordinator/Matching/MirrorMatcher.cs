using AdHocMirror.Contracts.V1;
using AdHocMirror.Coordinator.Geo;
using Google.Protobuf.WellKnownTypes;

namespace AdHocMirror.Coordinator.Matching;

/// <summary>
/// FindMirror's decision, apart from the transport: lists the official mirrors nearest first, works out how far a
/// volunteer may be (the official margin and far limit), and offers newer, nearby mirrors under a lease each. The
/// gRPC service and the simulation both ask it, so they cannot disagree.
/// </summary>
public sealed class MirrorMatcher(MirrorIndex index, LeaseBook leases, MatchingOptions options)
{
    private OfficialTable? _officials;

    /// <summary>The answer for a client at <paramref name="client"/> (null: located nowhere); the request is assumed valid.</summary>
    public FindMirrorReply Find(FindMirrorRequest request, GeoPlace? client)
    {
        var wanted = request.Count == 0 ? options.DefaultCount : (int)Math.Min(request.Count, (uint)options.MaxCount);
        var clientTicks = request.Current?.Generated is { } generated ? generated.ToDateTimeOffset().UtcTicks : long.MinValue;
        var reply = new FindMirrorReply();
        var nearestOfficialKm = AddOfficial(reply, request.Protocol, client);
        var newest = index.Newest(request.Protocol);
        if (newest is null)
        {
            return reply;
        }

        reply.Newest = newest;
        if (clientTicks >= newest.Generated.ToDateTimeOffset().UtcTicks)
        {
            reply.UpToDate = true;
            return reply;
        }

        var reach = nearestOfficialKm is { } official && official <= options.OfficialFarKm
            ? official - options.OfficialMarginKm
            : double.PositiveInfinity;
        if (reach > 0)
        {
            Offer(reply, request.Protocol, client, clientTicks, wanted, reach);
        }

        return reply;
    }

    /// <summary>The result label metrics count an answer under.</summary>
    public static string ResultOf(FindMirrorReply reply) =>
        reply.UpToDate ? "up_to_date" : reply.Candidates.Count > 0 ? "candidates" : "no_mirror";

    private void Offer(FindMirrorReply reply, Protocol protocol, GeoPlace? client, long clientTicks, int wanted, double reachKm)
    {
        // A second search only when concurrent calls filled every place this one had found.
        for (var attempt = 0; attempt < 2 && reply.Candidates.Count < wanted; attempt++)
        {
            var missed = false;
            foreach (var (slot, distance) in index.Search(protocol, client, clientTicks, wanted, reachKm, options.SimilarDistanceKm, options.MaxExamined))
            {
                if (reply.Candidates.Count >= wanted)
                {
                    break;
                }

                if (IsOffered(reply, slot))
                {
                    continue;
                }

                if (leases.TryTake(slot) is not { } lease)
                {
                    missed = true;
                    continue; // filled up by a concurrent call since the search: never over-assign
                }

                reply.Candidates.Add(new Candidate
                {
                    Uri = slot.Uri,
                    Version = lease.Promised,
                    LeaseId = Lease.Format(lease.Id),
                    LeaseExpiresAt = Timestamp.FromDateTimeOffset(lease.ExpiresAt),
                    DistanceKm = double.IsNaN(distance) ? 0 : Math.Round(distance, 1),
                    MirrorId = slot.KeyId,
                    Place = slot.Place,
                });
            }

            if (!missed)
            {
                break;
            }
        }
    }

    private static bool IsOffered(FindMirrorReply reply, MirrorSlot slot)
    {
        foreach (var candidate in reply.Candidates)
        {
            if (string.Equals(candidate.MirrorId, slot.KeyId, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Lists the official mirrors of the protocol, nearest first; returns the nearest located one's distance.</summary>
    /// <remarks>On every answer: positions are unit vectors computed once per list, and the order is a stable sort of indexes.</remarks>
    private double? AddOfficial(FindMirrorReply reply, Protocol protocol, GeoPlace? client)
    {
        var table = OfficialTable.For(options.Official, ref _officials);
        var entries = table.Entries;
        Span<(double Key, int Index)> order = entries.Length <= 128 ? stackalloc (double, int)[entries.Length] : new (double, int)[entries.Length];
        var listed = 0;
        double? nearest = null;
        var (cx, cy, cz) = client is { } place ? GreatCircle.UnitVector(place.Latitude, place.Longitude) : default;
        for (var i = 0; i < entries.Length; i++)
        {
            ref readonly var official = ref entries[i];
            if (official.Protocol != protocol)
            {
                continue;
            }

            var km = 0.0;
            if (client is not null && official.Located)
            {
                var (dx, dy, dz) = (official.X - cx, official.Y - cy, official.Z - cz);
                km = Math.Round(GreatCircle.ChordToKm((dx * dx) + (dy * dy) + (dz * dz)), 1);
                nearest = Math.Min(nearest ?? double.MaxValue, km);
            }

            order[listed++] = (km, i);
        }

        // Located ones nearest first; those without a location after them, in configured order.
        var keys = order[..listed];
        for (var i = 0; i < keys.Length; i++)
        {
            keys[i].Key = keys[i].Key == 0 && nearest is not null ? double.MaxValue : keys[i].Key;
        }

        keys.Sort();
        foreach (var (key, i) in keys)
        {
            reply.Official.Add(new OfficialMirror
            {
                Uri = entries[i].Uri,
                Name = entries[i].Name,
                DistanceKm = key == double.MaxValue ? 0 : key,
            });
        }

        return nearest;
    }

    /// <summary>The configured official mirrors with their unit vectors; rebuilt when the list is replaced or changes size.</summary>
    private sealed class OfficialTable(List<OfficialMirrorOptions> source, int count, OfficialTable.Entry[] entries)
    {
        public Entry[] Entries { get; } = entries;

        public static OfficialTable For(List<OfficialMirrorOptions> official, ref OfficialTable? cached)
        {
            var table = cached;
            if (table is not null && ReferenceEquals(table._source, official) && table._count == official.Count)
            {
                return table;
            }

            var entries = new Entry[official.Count];
            for (var i = 0; i < entries.Length; i++)
            {
                var o = official[i];
                var located = o.Latitude is not null && o.Longitude is not null;
                var (x, y, z) = located ? GreatCircle.UnitVector(o.Latitude!.Value, o.Longitude!.Value) : default;
                entries[i] = new Entry(o.Name, o.Uri, o.Protocol, located, x, y, z);
            }

            return cached = new OfficialTable(official, official.Count, entries);
        }

        private readonly List<OfficialMirrorOptions> _source = source;
        private readonly int _count = count;

        public readonly record struct Entry(string Name, string Uri, Protocol Protocol, bool Located, double X, double Y, double Z);
    }
}
