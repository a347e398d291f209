using AdHocMirror.Coordinator.Geo;

namespace AdHocMirror.Coordinator.Matching;

/// <summary>
/// The few best candidates a search has seen, best first: the nearest band of similar distance, then
/// the most spare places (so that mirrors at about the same distance share the load), then the
/// nearest. Keeping only these, rather than sorting everything examined, keeps a search's cost flat.
/// Ranked by a client network's seed instead, a band is ordered by a keyed hash of each volunteer:
/// the same network gets the same equally near volunteers whatever their load (see <see cref="CandidatePicker"/>).
/// </summary>
internal sealed class BestCandidates(int capacity, DistanceBands bands, ulong? rankSeed = null)
{
    private readonly Entry[] _items = new Entry[Math.Max(1, capacity)];
    private readonly bool _ranked = rankSeed.HasValue;
    private readonly ulong _seed = rankSeed ?? 0;
    private int _count;

    public int Count => _count;

    /// <param name="squaredChord">Between the unit vectors of client and mirror; NaN for a mirror without a location (it ranks after every located one).</param>
    /// <param name="spare">Free places when examined: a snapshot, so that concurrent leases cannot make the order inconsistent.</param>
    public void Offer(MirrorSlot slot, double squaredChord, int spare, ulong keyHash)
    {
        var band = bands.BandOf(squaredChord);
        var full = _count == _items.Length;
        if (full && band > _items[^1].Band)
        {
            return; // most of what a search examines: no rank needed
        }

        var entry = new Entry(slot, squaredChord, band, spare, keyHash, _ranked ? Rank(_seed, keyHash) : 0);
        if (full && !IsBetter(entry, _items[^1]))
        {
            return;
        }

        var i = Math.Min(_count, _items.Length - 1);
        while (i > 0 && IsBetter(entry, _items[i - 1]))
        {
            _items[i] = _items[i - 1];
            i--;
        }

        _items[i] = entry;
        _count = Math.Min(_count + 1, _items.Length);
    }

    /// <summary>Where the band of the <paramref name="rank"/>-th best (1-based) ends; infinity while there are fewer.</summary>
    public double BandEndKm(int rank) => rank > _count ? double.PositiveInfinity : bands.EndKm(_items[rank - 1].Band);

    /// <summary>Best first, with distances in kilometres (NaN where the mirror has no location).</summary>
    public List<(MirrorSlot Slot, double DistanceKm, ulong KeyHash)> ToList()
    {
        var list = new List<(MirrorSlot Slot, double DistanceKm, ulong KeyHash)>(_count);
        for (var i = 0; i < _count; i++)
        {
            var chord = _items[i].SquaredChord;
            list.Add((_items[i].Slot, double.IsNaN(chord) ? double.NaN : GreatCircle.ChordToKm(chord), _items[i].KeyHash));
        }

        return list;
    }

    /// <summary>A keyed mix of the volunteer's id hash with the network's seed: stable, and unrelated between networks and windows.</summary>
    internal static ulong Rank(ulong seed, ulong keyHash)
    {
        var z = seed ^ keyHash;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
        z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
        return z ^ (z >> 31);
    }

    private bool IsBetter(in Entry a, in Entry b) =>
        a.Band < b.Band || (a.Band == b.Band && (_ranked
            ? a.Rank < b.Rank
            : a.Spare > b.Spare || (a.Spare == b.Spare && a.SquaredChord < b.SquaredChord)));

    private readonly record struct Entry(MirrorSlot Slot, double SquaredChord, double Band, int Spare, ulong KeyHash, ulong Rank);
}
