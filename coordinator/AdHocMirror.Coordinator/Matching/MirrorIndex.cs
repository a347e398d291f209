using AdHocMirror.Contracts.V1;
using AdHocMirror.Coordinator.Geo;
using AdHocMirror.Coordinator.Matching.Privacy;
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
    private readonly ICapacityShare? _share;
    private readonly LeaseCounters _counters = new();
    private DistanceBands _bands = new(100);

    /// <summary>Follows <paramref name="directory"/> from now on, after indexing what it holds.</summary>
    /// <param name="share">With several coordinators, the part of each mirror's limit this one may lease; the whole limit when null.</param>
    public MirrorIndex(MirrorDirectory directory, ICapacityShare? share = null)
    {
        _directory = directory;
        _share = share;
        if (share is not null)
        {
            share.Changed += Reshare;
        }

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

    /// <summary>Places on the mirror of <paramref name="keyId"/> that leases hold now, all protocols together.</summary>
    public int LeasesOf(string keyId)
    {
        _lock.EnterReadLock();
        try
        {
            var held = 0;
            foreach (var protocol in (ReadOnlySpan<Protocol>)[Protocol.Rsync, Protocol.Git])
            {
                if (_slots.TryGetValue((keyId, protocol), out var slot))
                {
                    held += slot.Leases;
                }
            }

            return held;
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
                    slot = new MirrorSlot(change.Mirror.KeyId, protocol, _counters.Allocate());
                    _slots[key] = slot;
                }

                var grid = _grids[protocol];
                grid.Remove(slot);
                slot.Uri = uri;
                slot.Version = version!;
                slot.VersionTicks = version!.Generated.ToDateTimeOffset().UtcTicks;
                slot.Limit = (int)Math.Min(int.MaxValue, change.Mirror.Limits.MaxClients);
                slot.ReportedConnections = (int)Math.Min(int.MaxValue, change.Mirror.ActiveConnections);
                ApplyShare(slot);
                slot.Place = change.Mirror.Place;
                slot.HasLocation = change.Mirror.Location is not null;
                slot.Latitude = change.Mirror.Location?.Latitude ?? 0;
                slot.Longitude = change.Mirror.Location?.Longitude ?? 0;
                slot.Reach = VolunteerReach.Of(change.Mirror.ServeTo, change.Mirror.Country, change.Mirror.Continent);
                grid.Add(slot);
            }
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <summary>
    /// This coordinator's part of the limit, and of the connections the mirror reported in proportion,
    /// so that the parts held by all coordinators together never exceed the limit less the connections.
    /// </summary>
    private void ApplyShare(MirrorSlot slot)
    {
        var limit = slot.Limit;
        var share = _share is null || limit <= 0 ? limit : Math.Clamp(_share.ShareOf(slot.KeyId, limit), 0, limit);
        slot.MaxClients = share;
        slot.ActiveConnections = share == limit || limit <= 0
            ? slot.ReportedConnections
            : (int)Math.Min(share, ((long)slot.ReportedConnections * share + limit - 1) / limit);
    }

    /// <summary>
    /// The best candidates for a client, best first: newer than <paramref name="clientTicks"/>, under
    /// their limit, nearest first (bands of <paramref name="similarKm"/> ordered by spare capacity), no
    /// farther than <paramref name="maxDistanceKm"/>; at most <paramref name="keep"/> of them (default
    /// twice <paramref name="wanted"/>, so that a few may fill up concurrently before their lease is
    /// taken). With <paramref name="rankSeed"/>, a band is ordered by a keyed hash of each volunteer instead of
    /// spare capacity (see <see cref="BestCandidates"/>). Leases are NOT taken here.
    /// </summary>
    internal List<(MirrorSlot Slot, double DistanceKm, ulong KeyHash)> Search(
        Protocol protocol, GeoPlace? client, long clientTicks, int wanted, double maxDistanceKm, double similarKm, int maxExamined = int.MaxValue, int keep = 0, ulong? rankSeed = null)
    {
        var bands = _bands;
        if (bands.WidthKm != similarKm)
        {
            _bands = bands = new DistanceBands(similarKm); // options are read per call; they seldom change
        }

        var best = new BestCandidates(keep > 0 ? keep : wanted * 2, bands, rankSeed);
        _lock.EnterReadLock();
        try
        {
            if (_grids.TryGetValue(protocol, out var grid) && grid.Count > 0)
            {
                if (client is { } place)
                {
                    grid.SearchNear(best, place, clientTicks, wanted, maxDistanceKm, Math.Max(wanted, maxExamined));
                }
                else
                {
                    grid.SampleUnlocated(best, clientTicks);
                }
            }
        }
        finally
        {
            _lock.ExitReadLock();
        }

        return best.ToList();
    }

    /// <summary>
    /// The mirror of <paramref name="keyId"/> if it may still be offered to this client: indexed (online,
    /// serving the protocol), newer than <paramref name="clientTicks"/>, with a free place, within
    /// <paramref name="maxDistanceKm"/> and its reach. For the volunteers a client network was already shown.
    /// </summary>
    internal (MirrorSlot Slot, double DistanceKm)? Recheck(string keyId, Protocol protocol, GeoPlace? client, long clientTicks, double maxDistanceKm)
    {
        _lock.EnterReadLock();
        try
        {
            if (!_slots.TryGetValue((keyId, protocol), out var slot) || !slot.IsIndexed || slot.VersionTicks <= clientTicks || slot.Spare <= 0)
            {
                return null;
            }

            var distance = client is { } place && slot.HasLocation
                ? GreatCircle.DistanceKm(place.Latitude, place.Longitude, slot.Latitude, slot.Longitude)
                : double.NaN;
            var chord = double.IsNaN(distance) ? double.NaN : Math.Pow(2 * Math.Sin(distance / (2 * GreatCircle.EarthRadiusKm)), 2);
            if (distance > maxDistanceKm || (slot.Reach.IsLimited && !slot.Reach.Admits(ClientRegion.Of(client), chord)))
            {
                return null;
            }

            return (slot, distance);
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>Applies new capacity shares (coordinators came or went) to every indexed slot.</summary>
    public void Reshare()
    {
        _lock.EnterWriteLock();
        try
        {
            foreach (var slot in _slots.Values)
            {
                if (slot.IsIndexed)
                {
                    var grid = _grids[slot.Protocol];
                    grid.Remove(slot);
                    ApplyShare(slot);
                    grid.Add(slot);
                }
                else
                {
                    ApplyShare(slot);
                }
            }
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    public void Dispose()
    {
        if (_directory is not null)
        {
            _directory.Changed -= Apply;
        }

        if (_share is not null)
        {
            _share.Changed -= Reshare;
        }

        _lock.Dispose();
    }

    /// <summary>A mirror as a grid cell holds it: position and version inline, so that a search reads memory in order.</summary>
    private struct CellEntry
    {
        public double X;
        public double Y;
        public double Z;
        public long VersionTicks;
        public MirrorSlot Slot;

        /// <summary>The slot's <see cref="MirrorSlot.KeyHash"/>, so that ranking the candidates per network need not visit each slot.</summary>
        public ulong KeyHash;

        /// <summary>Where the slot's lease count lives (<see cref="LeaseCounters"/>), so a search need not visit the slot.</summary>
        public int[] Leases;
        public int LeasesOffset;

        /// <summary>Its limit less the connections its last ping reported: fixed until the next change re-indexes it.</summary>
        public int Capacity;

        /// <summary>The clients the volunteer serves (serve_to), checked inline.</summary>
        public VolunteerReach Reach;
    }

    /// <summary>The mirrors in one 1°×1° cell; removal swaps the last one into the hole.</summary>
    private sealed class Cell
    {
        public CellEntry[] Entries = new CellEntry[4];
        public int Count;
    }

    /// <summary>One protocol's grid, its mirrors without a location, and the version census.</summary>
    private sealed class ProtocolGrid
    {
        private readonly Cell?[] _cells = new Cell?[LatCells * LonCells];
        private readonly List<MirrorSlot> _unplaced = [];
        private readonly List<MirrorSlot> _all = [];
        private readonly SortedDictionary<long, (TreeVersion Version, int Count)> _versions = [];

        public int Count => _all.Count;

        public TreeVersion? Newest { get; private set; }

        public void Add(MirrorSlot slot)
        {
            if (slot.HasLocation)
            {
                slot.Cell = CellOf(slot.Latitude, slot.Longitude);
                var cell = _cells[slot.Cell] ??= new Cell();
                if (cell.Count == cell.Entries.Length)
                {
                    Array.Resize(ref cell.Entries, cell.Count * 2);
                }

                var (x, y, z) = GreatCircle.UnitVector(slot.Latitude, slot.Longitude);
                var (leases, offset) = slot.Counter;
                cell.Entries[cell.Count] = new CellEntry
                {
                    X = x, Y = y, Z = z, VersionTicks = slot.VersionTicks, Slot = slot, KeyHash = slot.KeyHash, Leases = leases, LeasesOffset = offset, Capacity = slot.Capacity, Reach = slot.Reach,
                };
                slot.Position = cell.Count++;
            }
            else
            {
                slot.Cell = -1;
                slot.Position = _unplaced.Count;
                _unplaced.Add(slot);
            }

            slot.AllPosition = _all.Count;
            _all.Add(slot);
            _versions[slot.VersionTicks] = _versions.TryGetValue(slot.VersionTicks, out var v) ? (v.Version, v.Count + 1) : (slot.Version, 1);
            Newest = _versions.Last().Value.Version;
        }

        public void Remove(MirrorSlot slot)
        {
            if (!slot.IsIndexed)
            {
                return;
            }

            if (slot.Cell >= 0)
            {
                var cell = _cells[slot.Cell]!;
                var last = cell.Entries[--cell.Count];
                cell.Entries[slot.Position] = last;
                last.Slot.Position = slot.Position;
                cell.Entries[cell.Count] = default; // no reference kept to a removed mirror
            }
            else
            {
                var moved = _unplaced[^1];
                _unplaced[slot.Position] = moved;
                moved.Position = slot.Position;
                _unplaced.RemoveAt(_unplaced.Count - 1);
            }

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

            Newest = _versions.Count == 0 ? null : _versions.Last().Value.Version;
            slot.Cell = int.MinValue;
            slot.Position = -1;
            slot.AllPosition = -1;
        }

        /// <summary>When the client locates nowhere: a bounded random sample, so that load still spreads.</summary>
        public void SampleUnlocated(BestCandidates best, long clientTicks)
        {
            var start = Random.Shared.Next(_all.Count);
            for (var i = 0; i < _all.Count && i < 256; i++)
            {
                var slot = _all[(start + i) % _all.Count];
                var spare = slot.Spare;
                if (slot.VersionTicks > clientTicks && spare > 0 && !slot.Reach.IsLimited)
                {
                    best.Offer(slot, double.NaN, spare, slot.KeyHash);
                }
            }
        }

        public void SearchNear(BestCandidates best, GeoPlace client, long clientTicks, int wanted, double maxDistanceKm, int maxExamined)
        {
            var latIndex = LatIndex(client.Latitude);
            var lonIndex = LonIndex(client.Longitude);
            var cosLat = Math.Cos(GreatCircle.DegreesToRadians(client.Latitude));
            var (x, y, z) = GreatCircle.UnitVector(client.Latitude, client.Longitude);
            var search = new RingSearch(best, x, y, z, clientTicks, maxDistanceKm, maxExamined, ClientRegion.Of(client));
            for (var ring = 0; ring <= LonCells / 2; ring++)
            {
                // No cell in this ring or beyond can be nearer than this bound (see RingLowerBoundKm);
                // once the wanted-th best's band ends before it, no unvisited mirror can rank above it.
                var bound = RingLowerBoundKm(ring, cosLat);
                if (bound > maxDistanceKm || bound >= best.BandEndKm(wanted))
                {
                    break;
                }

                if (!VisitRing(ref search, ring, latIndex, lonIndex))
                {
                    break; // dense enough: the nearest cells hold plenty to choose from
                }
            }

            if (best.Count < wanted)
            {
                foreach (var slot in _unplaced)
                {
                    var spare = slot.Spare;
                    if (slot.VersionTicks > clientTicks && spare > 0 && !slot.Reach.IsLimited)
                    {
                        best.Offer(slot, double.NaN, spare, slot.KeyHash);
                    }
                }
            }
        }

        /// <returns>False when enough candidates were examined and the search should stop.</returns>
        private bool VisitRing(ref RingSearch search, int ring, int latIndex, int lonIndex)
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
                    if (_cells[(lat * LonCells) + lon] is { Count: > 0 } cell && !search.Visit(cell))
                    {
                        return false;
                    }
                }
            }

            return true;
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

    /// <summary>One search's client and running count, handed to each cell it visits.</summary>
    private struct RingSearch(BestCandidates best, double x, double y, double z, long clientTicks, double maxDistanceKm, int maxExamined, ClientRegion region)
    {
        private readonly double _maxSquaredChord = maxDistanceKm >= Math.PI * GreatCircle.EarthRadiusKm
            ? double.PositiveInfinity
            : Math.Pow(2 * Math.Sin(maxDistanceKm / (2 * GreatCircle.EarthRadiusKm)), 2);

        private int _examined;

        /// <returns>False once <c>maxExamined</c> candidates were examined.</returns>
        public bool Visit(Cell cell)
        {
            var entries = cell.Entries.AsSpan(0, cell.Count);
            foreach (ref readonly var entry in entries)
            {
                if (entry.VersionTicks <= clientTicks)
                {
                    continue;
                }

                var spare = entry.Capacity - Volatile.Read(ref entry.Leases[entry.LeasesOffset]);
                if (spare <= 0)
                {
                    continue;
                }

                // Only what may be offered counts: the early stop relies on every examined entry being a real candidate.
                var dx = entry.X - x;
                var dy = entry.Y - y;
                var dz = entry.Z - z;
                var squaredChord = (dx * dx) + (dy * dy) + (dz * dz);
                if (squaredChord <= _maxSquaredChord && (!entry.Reach.IsLimited || entry.Reach.Admits(region, squaredChord)))
                {
                    best.Offer(entry.Slot, squaredChord, spare, entry.KeyHash);
                    if (++_examined >= maxExamined)
                    {
                        return false; // mid-cell: where mirrors are dense, the nearest cell alone holds enough
                    }
                }
            }

            return true;
        }
    }
}
