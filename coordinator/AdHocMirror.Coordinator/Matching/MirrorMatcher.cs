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
    private double? AddOfficial(FindMirrorReply reply, Protocol protocol, GeoPlace? client)
    {
        double? nearest = null;
        var listed = new List<OfficialMirror>();
        foreach (var official in options.Official)
        {
            if (official.Protocol != protocol)
            {
                continue;
            }

            var entry = new OfficialMirror { Uri = official.Uri, Name = official.Name };
            if (client is { } place && official.Latitude is { } lat && official.Longitude is { } lon)
            {
                entry.DistanceKm = Math.Round(GreatCircle.DistanceKm(place.Latitude, place.Longitude, lat, lon), 1);
                nearest = Math.Min(nearest ?? double.MaxValue, entry.DistanceKm);
            }

            listed.Add(entry);
        }

        // Located ones nearest first; those without a location after them, in configured order.
        reply.Official.AddRange(listed.OrderBy(o => o.DistanceKm == 0 && nearest is not null ? double.MaxValue : o.DistanceKm));
        return nearest;
    }
}
