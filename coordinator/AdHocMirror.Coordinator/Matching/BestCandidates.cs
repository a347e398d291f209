using AdHocMirror.Coordinator.Geo;

namespace AdHocMirror.Coordinator.Matching;

/// <summary>
/// The few best candidates a search has seen, best first: the nearest band of similar distance, then
/// the most spare places (so that mirrors at about the same distance share the load), then the
/// nearest. Keeping only these, rather than sorting everything examined, keeps a search's cost flat.
/// </summary>
internal sealed class BestCandidates(int capacity, DistanceBands bands)
{
    private readonly Entry[] _items = new Entry[Math.Max(1, capacity)];
    private int _count;

    public int Count => _count;

    /// <param name="squaredChord">Between the unit vectors of client and mirror; NaN for a mirror without a location (it ranks after every located one).</param>
    /// <param name="spare">Free places when examined: a snapshot, so that concurrent leases cannot make the order inconsistent.</param>
    public void Offer(MirrorSlot slot, double squaredChord, int spare, ulong keyHash)
    {
        var entry = new Entry(slot, squaredChord, bands.BandOf(squaredChord), spare, keyHash);
        if (_count == _items.Length && !entry.IsBetterThan(_items[^1]))
        {
            return;
        }

        var i = Math.Min(_count, _items.Length - 1);
        while (i > 0 && entry.IsBetterThan(_items[i - 1]))
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

    private readonly record struct Entry(MirrorSlot Slot, double SquaredChord, double Band, int Spare, ulong KeyHash)
    {
        public bool IsBetterThan(Entry other) =>
            Band < other.Band || (Band == other.Band && (Spare > other.Spare || (Spare == other.Spare && SquaredChord < other.SquaredChord)));
    }
}
