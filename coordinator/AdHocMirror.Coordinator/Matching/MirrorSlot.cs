using AdHocMirror.Contracts.V1;

namespace AdHocMirror.Coordinator.Matching;

/// <summary>
/// One mirror serving one protocol, as matching sees it. The lease count changes under concurrent
/// FindMirror calls: a lease is taken by compare-and-swap so that no race offers a mirror beyond
/// its limit.
/// </summary>
internal sealed class MirrorSlot
{
    private readonly int[] _counters;
    private readonly int _counter;
    private int _active;

    /// <param name="counter">Where its lease count lives (see <see cref="LeaseCounters"/>); a slot of its own when omitted.</param>
    public MirrorSlot(string keyId, Protocol protocol, (int[] Chunk, int Offset)? counter = null)
    {
        KeyId = keyId;
        Protocol = protocol;
        (_counters, _counter) = counter ?? (new int[1], 0);
    }

    /// <summary>Fixed for the slot's life (a rotated key gets a new slot): leases name their mirror by it.</summary>
    public string KeyId
    {
        get;
        private init
        {
            field = value;
            KeyHash = HashOf(value);
        }
    }

    /// <summary>
    /// A hash of <see cref="KeyId"/> kept beside the slot's other fields: ranking candidates per client network
    /// reads it instead of the id's characters, another object that is cold in a large index.
    /// </summary>
    public ulong KeyHash { get; private set; }

    public Protocol Protocol { get; }

    public string Uri { get; set; } = string.Empty;

    public TreeVersion Version { get; set; } = new();

    public long VersionTicks { get; set; }

    public string Place { get; set; } = string.Empty;

    public bool HasLocation { get; set; }

    /// <summary>The clients the volunteer serves (serve_to, measured from where it is).</summary>
    public Privacy.VolunteerReach Reach { get; set; } = Privacy.VolunteerReach.Anywhere;

    public double Latitude { get; set; }

    public double Longitude { get; set; }

    /// <summary>Grid cell while indexed, -1 when unplaced, int.MinValue when not indexed.</summary>
    public int Cell { get; set; } = int.MinValue;

    /// <summary>Position in its cell's (or the unplaced) list, for O(1) removal.</summary>
    public int Position { get; set; } = -1;

    /// <summary>Position in the protocol's list of all indexed slots, for O(1) removal.</summary>
    public int AllPosition { get; set; } = -1;

    /// <summary>The limit the mirror asked for (all coordinators together).</summary>
    public int Limit { get; set; }

    /// <summary>The connections its last ping reported (all coordinators' clients together).</summary>
    public int ReportedConnections { get; set; }

    /// <summary>What this coordinator may lease: its share of <see cref="Limit"/>.</summary>
    public int MaxClients { get; set; }

    public int ActiveConnections
    {
        get => Volatile.Read(ref _active);
        set => Volatile.Write(ref _active, value);
    }

    /// <summary>Places its limit leaves once the connections its last ping reported are counted.</summary>
    public int Capacity => MaxClients - ActiveConnections;

    public int Leases => Volatile.Read(ref _counters[_counter]);

    /// <summary>The chunk and offset of its lease count, for a search to read it without this object.</summary>
    public (int[] Chunk, int Offset) Counter => (_counters, _counter);

    public bool IsIndexed => Cell != int.MinValue;

    /// <summary>Free places: limit less leases less the connections its last ping reported.</summary>
    public int Spare => Capacity - Leases;

    public bool TryAcquire()
    {
        ref var leases = ref _counters[_counter];
        while (true)
        {
            var held = Volatile.Read(ref leases);
            if (held + ActiveConnections >= MaxClients)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref leases, held + 1, held) == held)
            {
                return true;
            }
        }
    }

    public void Release() => Interlocked.Decrement(ref _counters[_counter]);

    /// <summary>FNV-1a over the id's characters; ids are random hex, so a fast unkeyed hash spreads them well enough (the ranking keys it per network).</summary>
    internal static ulong HashOf(string keyId)
    {
        var hash = 14695981039346656037;
        foreach (var c in keyId)
        {
            hash = (hash ^ c) * 1099511628211;
        }

        return hash;
    }
}
