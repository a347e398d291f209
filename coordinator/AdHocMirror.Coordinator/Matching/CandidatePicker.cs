using System.Runtime.InteropServices;
using AdHocMirror.Contracts.V1;
using AdHocMirror.Coordinator.Geo;
using AdHocMirror.Coordinator.Matching.Privacy;

namespace AdHocMirror.Coordinator.Matching;

/// <summary>A volunteer offered to one client: its place taken by a lease.</summary>
internal readonly record struct Offered(MirrorSlot Slot, Lease Lease, double DistanceKm);

/// <summary>
/// Chooses the volunteers one FindMirror answer offers, each under a lease. With a reveal budget a
/// client network gets the volunteers it was shown this window again while they still serve it,
/// and new ones only while its budget lasts, chosen among the nearest by a key of the network and
/// the window (the same choice on every coordinator); the answer is ordered as always: nearest band
/// first, spare capacity within a band.
/// </summary>
public sealed class CandidatePicker(MirrorIndex index, LeaseBook leases, MatchingOptions options, RevealBudget budget)
{
    /// <param name="spent">Set when the network's budget held back a volunteer the answer had room for.</param>
    internal List<Offered> Pick(Protocol protocol, GeoPlace? client, ClientNetwork? network, long clientTicks, int wanted, double reachKm, out bool spent) =>
        Pick(protocol, client, network, MatchingPrivacy.NoRecord, clientTicks, wanted, reachKm, out spent);

    /// <param name="record">Where the network's record was found when the call was admitted.</param>
    internal List<Offered> Pick(Protocol protocol, GeoPlace? client, ClientNetwork? network, int record, long clientTicks, int wanted, double reachKm, out bool spent)
    {
        spent = false;
        var picked = new List<Offered>(wanted);
        Reveals? reveals = budget.Enabled && network is { } n ? budget.View(n, record) : null;
        var at = reveals?.Slot ?? 0; // where the network's record is: revealing more needs no lookup
        if (reveals is { } shown)
        {
            for (var i = 0; i < shown.Known.Length && picked.Count < wanted; i++)
            {
                if (shown.IsUsable(i) && index.Recheck(shown.Known[i], protocol, client, clientTicks, reachKm) is { } found && leases.TryTake(found.Slot) is { } lease)
                {
                    picked.Add(new Offered(found.Slot, lease, found.DistanceKm));
                }
            }

            if (picked.Count < wanted && shown.IsSpent)
            {
                spent = true;
                return Ordered(picked);
            }
        }

        // A second search only when concurrent calls filled every place this one had found.
        for (var attempt = 0; attempt < 2 && picked.Count < wanted; attempt++)
        {
            var missed = false;
            // With a budget the nearest band is ranked by the network's key, not by load: the same network is shown
            // the same equally near volunteers on every call and coordinator. Room for the ones it already knows.
            var found = reveals is { } known
                ? index.Search(protocol, client, clientTicks, wanted, reachKm, options.SimilarDistanceKm, options.MaxExamined, keep: (wanted * 2) + known.Known.Length, rankSeed: network!.Value.Seed)
                : index.Search(protocol, client, clientTicks, wanted, reachKm, options.SimilarDistanceKm, options.MaxExamined);
            foreach (var (slot, distance, _) in found)
            {
                if (picked.Count >= wanted)
                {
                    break;
                }

                if (IsPicked(picked, slot) || (reveals?.IsKnown(slot.KeyId) ?? false))
                {
                    continue;
                }

                if (leases.TryTake(slot) is not { } lease)
                {
                    missed = true;
                    continue; // filled up by a concurrent call since the search: never over-assign
                }

                if (reveals is not null && !budget.TryReveal(network!.Value, ref at, slot.KeyId))
                {
                    leases.Complete(Lease.Format(lease.Id)); // never shown: its place goes back at once
                    spent = true;
                    return Ordered(picked);
                }

                picked.Add(new Offered(slot, lease, distance));
            }

            if (!missed)
            {
                break;
            }
        }

        return reveals is null ? picked : Ordered(picked);
    }

    /// <summary>Revealed and new together, as every answer is ordered: nearest band first, then the most spare places, then the nearest.</summary>
    /// <remarks>By a key per candidate: a comparison would need the band's width, a closure on every answer.</remarks>
    private List<Offered> Ordered(List<Offered> picked)
    {
        if (picked.Count > 1)
        {
            var items = CollectionsMarshal.AsSpan(picked);
            Span<(double Band, long LessSpare, double Km)> keys = items.Length <= 64 ? stackalloc (double, long, double)[items.Length] : new (double, long, double)[items.Length];
            var width = options.SimilarDistanceKm;
            for (var i = 0; i < items.Length; i++)
            {
                keys[i] = (Band(items[i].DistanceKm, width), -(long)items[i].Slot.Spare, items[i].DistanceKm);
            }

            keys.Sort(items);
        }

        return picked;
    }

    private static double Band(double km, double width) => double.IsNaN(km) ? double.PositiveInfinity : Math.Floor(km / width);

    private static bool IsPicked(List<Offered> picked, MirrorSlot slot)
    {
        foreach (var offered in picked)
        {
            if (ReferenceEquals(offered.Slot, slot)) // one slot per mirror and protocol; the ids are cold strings
            {
                return true;
            }
        }

        return false;
    }
}
