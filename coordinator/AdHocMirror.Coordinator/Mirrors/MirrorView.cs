using System.Net;
using AdHocMirror.Contracts.V1;

namespace AdHocMirror.Coordinator.Mirrors;

/// <summary>An immutable picture of one mirror at one moment, for matching, admin and observers.</summary>
public sealed record MirrorView(
    string KeyId,
    string SessionId,
    MirrorState State,
    MirrorEndpoints Endpoints,
    IReadOnlyList<TreeVersion> Versions,
    LoadLimits Limits,
    GeoPoint? Location,
    string Place,
    uint ActiveConnections,
    DateTimeOffset LoggedInAt,
    DateTimeOffset? LastPing,
    double LastPingMs,
    int FailedPings)
{
    /// <summary>Offered to clients: online and verified by its last ping.</summary>
    public bool IsEligible => State == MirrorState.Online;

    public TreeVersion? VersionOf(Protocol protocol) => Versions.FirstOrDefault(v => v.Protocol == protocol);

    internal IPAddress? Peer { get; init; }

    /// <summary>Where the coordinator placed it (ISO 3166-1 alpha-2 and continent code), null when unknown.</summary>
    public string? Country { get; init; }

    public string? Continent { get; init; }

    /// <summary>The clients it is offered to (login's serve_to); null = anywhere.</summary>
    public ServeTo? ServeTo { get; init; }
}

public enum MirrorChangeKind
{
    /// <summary>The mirror may now be offered (first good ping, back after failures, released).</summary>
    Eligible,

    /// <summary>The mirror must no longer be offered (failures, logout, superseded, revoked, quarantined).</summary>
    Ineligible,
    VersionChanged,
    LoadChanged,
    LocationChanged,
}

/// <summary>What changed, and the mirror as it is now (for Ineligible after removal: as it was, with state Offline).</summary>
public sealed record MirrorChange(MirrorChangeKind Kind, MirrorView Mirror)
{
    /// <summary>The change came from another coordinator's published state, not from this one's pings or calls.</summary>
    public bool Shared { get; init; }
}
