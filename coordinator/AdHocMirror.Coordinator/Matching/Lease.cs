using AdHocMirror.Contracts.V1;

namespace AdHocMirror.Coordinator.Matching;

/// <summary>A place on a mirror promised to one client, until ReportSync or its expiry.</summary>
internal sealed class Lease(string id, MirrorSlot slot, string clientTag, DateTimeOffset expiresAt)
{
    private int _released;

    public string Id { get; } = id;

    public MirrorSlot Slot { get; } = slot;

    /// <summary>The key the mirror had when the lease was taken (rotation may rename the slot later).</summary>
    public string KeyId { get; } = slot.KeyId;

    /// <summary>What the coordinator promised the client: the version the mirror advertised.</summary>
    public TreeVersion Promised { get; } = slot.Version;

    public long PromisedTicks { get; } = slot.VersionTicks;

    /// <summary>A keyed hash of the client's address: tells distinct clients apart without keeping addresses.</summary>
    public string ClientTag { get; } = clientTag;

    public DateTimeOffset ExpiresAt { get; } = expiresAt;

    public bool IsReleased => Volatile.Read(ref _released) == 1;

    /// <summary>Gives the place back, once, whether by report or by expiry.</summary>
    public bool Release()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0)
        {
            Slot.Release();
            return true;
        }

        return false;
    }
}
