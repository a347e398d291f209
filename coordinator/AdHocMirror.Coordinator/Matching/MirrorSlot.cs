using AdHocMirror.Contracts.V1;

namespace AdHocMirror.Coordinator.Matching;

/// <summary>
/// One mirror serving one protocol, as matching sees it. The load fields change under concurrent
/// FindMirror calls: a lease is taken by compare-and-swap so that no race offers a mirror beyond
/// its limit.
/// </summary>
internal sealed class MirrorSlot(string keyId, Protocol protocol)
{
    private int _leases;
    private int _active;

    public string KeyId { get; set; } = keyId;

    public Protocol Protocol { get; } = protocol;

    public string Uri { get; set; } = string.Empty;

    public TreeVersion Version { get; set; } = new();

    public long VersionTicks { get; set; }

    public string Place { get; set; } = string.Empty;

    public bool HasLocation { get; set; }

    public double Latitude { get; set; }

    public double Longitude { get; set; }

    /// <summary>Grid cell while indexed, -1 when unplaced, int.MinValue when not indexed.</summary>
    public int Cell { get; set; } = int.MinValue;

    /// <summary>Position in its cell's (or the unplaced) list, for O(1) removal.</summary>
    public int Position { get; set; } = -1;

    /// <summary>Position in the protocol's list of all indexed slots, for O(1) removal.</summary>
    public int AllPosition { get; set; } = -1;

    public int MaxClients { get; set; }

    public int ActiveConnections
    {
        get => Volatile.Read(ref _active);
        set => Volatile.Write(ref _active, value);
    }

    public int Leases => Volatile.Read(ref _leases);

    public bool IsIndexed => Cell != int.MinValue;

    /// <summary>Free places: limit less leases less the connections its last ping reported.</summary>
    public int Spare => MaxClients - Leases - ActiveConnections;

    public bool TryAcquire()
    {
        while (true)
        {
            var leases = Volatile.Read(ref _leases);
            if (leases + ActiveConnections >= MaxClients)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _leases, leases + 1, leases) == leases)
            {
                return true;
            }
        }
    }

    public void Release() => Interlocked.Decrement(ref _leases);
}
