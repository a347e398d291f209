namespace AdHocMirror.EndToEnd.Tests.Scenarios;

/// <summary>One volunteer of a scenario: where the coordinator places it, its limit, and what it syncs from.</summary>
/// <param name="Name">Short name used in logs and assertions ("evil", "honest", …).</param>
/// <param name="Host">Last octet of its loopback address 127.0.0.HOST (2–254).</param>
/// <param name="FrozenUpstream">Sync from an upstream module that never advances (a stale mirror).</param>
/// <param name="SyncInterval">How often it syncs from its upstream.</param>
public sealed record VolunteerPlan(
    string Name, int Host, string City, double Latitude, double Longitude,
    int MaxClients = 8, bool FrozenUpstream = false, string SyncInterval = "2s");

/// <summary>A scenario's swarm: volunteers and the coordinator's tunables (short, so a scenario takes seconds).</summary>
public sealed class SwarmPlan
{
    public required IReadOnlyList<VolunteerPlan> Volunteers { get; init; }

    public string PingInterval { get; init; } = "1s";

    public int PingFailures { get; init; } = 2;

    public int QuarantineReports { get; init; } = 3;

    public string LeaseTtl { get; init; } = "5m";

    /// <summary>Files in the generated tree: enough to be a tree, few enough that every sync takes well under a second.</summary>
    public int Files { get; init; } = 150;
}
