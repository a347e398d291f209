using AdHocMirror.Contracts.V1;
using AdHocMirror.Coordinator.Geo;
using AdHocMirror.Coordinator.Mirrors;

namespace AdHocMirror.Coordinator.Matching;

/// <summary>
/// The eligible mirrors of each protocol on a 1°×1° latitude/longitude grid, kept in step with the
/// <see cref="MirrorDirectory"/> through its change events (never by scanning it). A search visits
/// rings of cells around the client, nearest first, and stops as soon as no unvisited cell can hold
/// a better candidate, so its cost depends on the mirrors near the client, not on how many there are.
/// </summary>
public sealed class MirrorIndex : IDisposable
{
    private const int LatCells = 180;
    private const int LonCells = 360;

    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);
    private readonly Dictionary<Protocol, ProtocolGrid> _grids = new()
    {
        [Protocol.Rsync] = new ProtocolGrid(),
        [Protocol.Git] = new ProtocolGrid(),
    };

    private readonly Dictionary<(string KeyId, Protocol Protocol), MirrorSlot> _slots = [];
    private readonly MirrorDirectory? _directory;

    /// <summary>Follows <paramref name="directory"/> from now on, after indexing what it holds.</summary>
    public MirrorIndex(MirrorDirectory directory)
    {
        _directory = directory;
        directory.Changed += Apply;
        foreach (var mirror in directory.List())
        {
            if (mirror.IsEligible)
            {
                Apply(new MirrorChange(MirrorChangeKind.Eligible, mirror));
            }
        }
    }

    internal MirrorIndex()
    {
    }

    /// <summary>Eligible mirrors indexed for <paramref name="protocol"/>.</summary>
    public int Count(Protocol protocol)
    {
        _lock.EnterReadLock();
        try
        {
            return _grids.TryGetValue(protocol, out var grid) ? grid.Count : 0;
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>The newest version any eligible mirror serves for <paramref name="protocol"/>, or null.</summary>
    public TreeVersion? Newest(Protocol protocol)
    {
        _lock.EnterReadLock();
        try
        {
            return _grids.TryGetValue(protocol, out var grid) ? grid.Newest : null;
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    public void Apply(MirrorChange change)
    {
        _lock.EnterWriteLock();
        try
        {
            foreach (var protocol in (ReadOnlySpan<Protocol>)[Protocol.Rsync, Protocol.Git])
            {
                var key = (change.Mirror.KeyId, protocol);
                var uri = protocol == Protocol.Rsync ? change.Mirror.Endpoints.RsyncUri : change.Mirror.Endpoints.GitUri;
                var version = change.Mirror.VersionOf(protocol);
                var serves = change.Kind != MirrorChangeKind.Ineligible && change.Mirror.IsEligible
                    && !string.IsNullOrEmpty(uri) && version?.Generated is not null;
                _slots.TryGetValue(key, out var slot);
                if (!serves)
                {
                    if (slot is not null)
                    {
                        _grids[protocol].Remove(slot);
                        if (slot.Leases == 0)
                        {
                            _slots.Remove(key);
                        }
                    }

                    continue;
                }

                if (slot is null)
                {
                    slot = new MirrorSlot(change.Mirror.KeyId, protocol);
                    _slots[key] = slot;
                }

                var grid = _grids[protocol];
                grid.Remove(slot);
                slot.Uri = uri;
                slot.Version = version!;
                slot.VersionTicks = version!.Generated.ToDateTimeOffset().UtcTicks;
                slot.MaxClients = (int)Math.Min(int.MaxValue, change.Mirror.Limits.MaxClients);
                slot.ActiveConnections = (int)Math.Min(int.MaxValue, change.Mirror.ActiveConnections);
                slot.Place = change.Mirror.Place;
                slot.HasLocation = change.Mirror.Location is not null;
                slot.Latitude = change.Mirror.Location?.Latitude ?? 0;
                slot.Longitude = change.Mirror.Location?.Longitude ?? 0;
                grid.Add(slot);
            }
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <summary>
    /// The best candidates for a client: newer than <paramref name="clientTicks"/>, under their
    /// limit, nearest first (bands of <paramref name="similarKm"/> ordered by spare capacity), no
    /// farther than <paramref name="maxDistanceKm"/>. Leases are NOT taken here.
    /// </summary>
    internal List<(MirrorSlot Slot, double DistanceKm)> Search(
        Protocol protocol, GeoPlace? client, long clientTicks, int wanted, double maxDistanceKm, double similarKm, int maxExamined = int.MaxValue)
    {
        var found = new List<(MirrorSlot Slot, double DistanceKm)>(wanted * 4);
        _lock.EnterReadLock();
        try
        {
            if (!_grids.TryGetValue(protocol, out var grid) || grid.Count == 0)
            {
                return found;
            }

            if (client is not { } place)
            {
                grid.SampleUnlocated(found, clientTicks, wanted * 4);
                found.Sort((a, b) => b.Slot.Spare.CompareTo(a.Slot.Spare));
                return found;
            }

            grid.SearchNear(found, place, clientTicks, wanted, maxDistanceKm, similarKm, Math.Max(wanted, maxExamined));
        }
        finally
        {
            _lock.ExitReadLock();
        }

        found.Sort((a, b) =>
        {
            var band = Math.Floor(a.DistanceKm / similarKm).CompareTo(Math.Floor(b.DistanceKm / similarKm));
            if (band != 0)
            {
                return band;
            }

            var spare = b.Slot.Spare.CompareTo(a.Slot.Spare);
            return spare != 0 ? spare : a.DistanceKm.CompareTo(b.DistanceKm);
        });
        return found;
    }

    public void Dispose()
    {
        if (_directory is not null)
        {
            _directory.Changed -= Apply;
        }

        _lock.Dispose();
    }

    private static bool Offerable(MirrorSlot slot, long clientTicks) => slot.VersionTicks > clientTicks && slot.Spare > 0;

    /// <summary>One protocol's grid, its mirrors without a location, and the version census.</summary>
    private sealed class ProtocolGrid
    {
        private readonly List<MirrorSlot>?[] _cells = new List<MirrorSlot>?[LatCells * LonCells];
        private readonly List<MirrorSlot> _unplaced = [];
        private readonly List<MirrorSlot> _all = [];
        private readonly SortedDictionary<long, (TreeVersion Version, int Count)> _versions = [];

        public int Count => _all.Count;

        public TreeVersion? Newest => _versions.Count == 0 ? null : _versions.Last().Value.Version;

        public void Add(MirrorSlot slot)
        {
            var list = slot.HasLocation ? (_cells[CellOf(slot.Latitude, slot.Longitude)] ??= []) : _unplaced;
            slot.Cell = slot.HasLocation ? CellOf(slot.Latitude, slot.Longitude) : -1;
            slot.Position = list.Count;
            list.Add(slot);
            slot.AllPosition = _all.Count;
            _all.Add(slot);
            _versions[slot.VersionTicks] = _versions.TryGetValue(slot.VersionTicks, out var v) ? (v.Version, v.Count + 1) : (slot.Version, 1);
        }

        public void Remove(MirrorSlot slot)
        {
            if (!slot.IsIndexed)
            {
                return;
            }

            var list = slot.Cell >= 0 ? _cells[slot.Cell]! : _unplaced;
            var moved = list[^1];
            list[slot.Position] = moved;
            moved.Position = slot.Position;
            list.RemoveAt(list.Count - 1);
            var movedInAll = _all[^1];
            _all[slot.AllPosition] = movedInAll;
            movedInAll.AllPosition = slot.AllPosition;
            _all.RemoveAt(_all.Count - 1);
            if (_versions.TryGetValue(slot.VersionTicks, out var v))
            {
                if (v.Count <= 1)
                {
                    _versions.Remove(slot.VersionTicks);
                }
                else
                {
                    _versions[slot.VersionTicks] = (v.Version, v.Count - 1);
                }
            }

            slot.Cell = int.MinValue;
            slot.Position = -1;
            slot.AllPosition = -1;
        }

        /// <summary>When the client locates nowhere: a bounded random sample, so that load still spreads.</summary>
        public void SampleUnlocated(List<(MirrorSlot, double)> found, long clientTicks, int limit)
        {
            var start = Random.Shared.Next(_all.Count);
            for (var i = 0; i < _all.Count && i < 256 && found.Count < limit; i++)
            {
                var slot = _all[(start + i) % _all.Count];
                if (Offerable(slot, clientTicks))
                {
                    found.Add((slot, double.NaN));
                }
            }
        }

        public void SearchNear(List<(MirrorSlot Slot, double DistanceKm)> found, GeoPlace client, long clientTicks, int wanted, double maxDistanceKm, double similarKm, int maxExamined)
        {
            var latIndex = LatIndex(client.Latitude);
            var lonIndex = LonIndex(client.Longitude);
            var cosLat = Math.Cos(GreatCircle.DegreesToRadians(client.Latitude));
            var kthBand = double.PositiveInfinity;
            for (var ring = 0; ring <= LonCells / 2; ring++)
            {
                // No cell in this ring or beyond can be nearer than this bound (see RingLowerBoundKm).
                var bound = RingLowerBoundKm(ring, cosLat);
                if (bound > maxDistanceKm || bound >= kthBand)
                {
                    break;
                }

                if (!VisitRing(found, ring, latIndex, lonIndex, client, clientTicks, maxDistanceKm, maxExamined))
                {
                    break; // dense enough: the nearest cells hold plenty to choose from
                }

                if (found.Count >= wanted)
                {
                    // The k-th best band so far: an unvisited mirror could only tie or lose against it
                    // once the next ring's bound passes the end of that band.
                    kthBand = KthBandEndKm(found, wanted, similarKm);
                }
            }

            if (_unplaced.Count > 0 && found.Count < wanted)
            {
                foreach (var slot in _unplaced)
                {
                    if (Offerable(slot, clientTicks))
                    {
                        found.Add((slot, double.NaN));
                    }

                    if (found.Count >= wanted * 4)
                    {
                        break;
                    }
                }
            }
        }

        /// <returns>False when <paramref name="maxExamined"/> candidates were found and the search should stop.</returns>
        private bool VisitRing(List<(MirrorSlot Slot, double DistanceKm)> found, int ring, int latIndex, int lonIndex, GeoPlace client, long clientTicks, double maxDistanceKm, int maxExamined)
        {
            for (var dLat = -ring; dLat <= ring; dLat++)
            {
                var lat = latIndex + dLat;
                if (lat is < 0 or >= LatCells)
                {
                    continue;
                }

                var fullRow = Math.Abs(dLat) == ring;
                var step = fullRow ? 1 : 2 * ring;
                for (var dLon = -ring; dLon <= ring; dLon += Math.Max(1, step))
                {
                    if (ring * 2 >= LonCells && dLon == ring && ring != 0)
                    {
                        continue; // the ring has wrapped all the way round: -ring and +ring are one column
                    }

                    var lon = ((lonIndex + dLon) % LonCells + LonCells) % LonCells;
                    var cell = _cells[(lat * LonCells) + lon];
                    if (cell is null)
                    {
                        continue;
                    }

                    foreach (var slot in cell)
                    {
                        if (Offerable(slot, clientTicks))
                        {
                            // Only what may be offered counts: the early stop relies on every entry being a real candidate.
                            var distance = GreatCircle.DistanceKm(client.Latitude, client.Longitude, slot.Latitude, slot.Longitude);
                            if (distance <= maxDistanceKm)
                            {
                                found.Add((slot, distance));
                            }
                        }
                    }

                    if (found.Count >= maxExamined)
                    {
                        return false;
                    }
                }
            }

            return true;
        }

        private static double KthBandEndKm(List<(MirrorSlot Slot, double DistanceKm)> found, int wanted, double similarKm)
        {
            Span<double> best = stackalloc double[Math.Min(wanted, 64)];
            best.Fill(double.PositiveInfinity);
            foreach (var (_, distance) in found)
            {
                // Insertion into a tiny sorted buffer: wanted is a handful.
                for (var i = 0; i < best.Length; i++)
                {
                    if (distance < best[i])
                    {
                        for (var j = best.Length - 1; j > i; j--)
                        {
                            best[j] = best[j - 1];
                        }

                        best[i] = distance;
                        break;
                    }
                }
            }

            var kth = best[^1];
            return double.IsPositiveInfinity(kth) ? kth : (Math.Floor(kth / similarKm) + 1) * similarKm;
        }

        /// <summary>
        /// A lower bound of the distance from the client to any cell at Chebyshev ring ≥ <paramref name="ring"/>:
        /// such a cell is at least ring−1 whole rows away in latitude, or ring−1 whole columns in
        /// longitude, and a point Δλ away in longitude is at least asin(cos φ · sin Δλ) away (capped at
        /// 90°, where the nearest point of a half-meridian is the pole).
        /// </summary>
        private static double RingLowerBoundKm(int ring, double cosLat)
        {
            if (ring <= 1)
            {
                return 0;
            }

            var steps = ring - 1;
            var byLatitude = steps * GreatCircle.KmPerDegree;
            var deltaLon = GreatCircle.DegreesToRadians(Math.Min(steps, 90));
            var byLongitude = GreatCircle.EarthRadiusKm * Math.Asin(Math.Min(1, cosLat * Math.Sin(deltaLon)));
            return Math.Min(byLatitude, byLongitude);
        }

        private static int LatIndex(double latitude) => Math.Clamp((int)Math.Floor(latitude + 90), 0, LatCells - 1);

        private static int LonIndex(double longitude) => ((int)Math.Floor(longitude + 180) % LonCells + LonCells) % LonCells;

        private static int CellOf(double latitude, double longitude) => (LatIndex(latitude) * LonCells) + LonIndex(longitude);
    }
}
