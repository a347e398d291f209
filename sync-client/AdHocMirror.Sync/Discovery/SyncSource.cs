using AdHocMirror.Tree.Versions;

namespace AdHocMirror.Sync.Discovery;

/// <summary>Somewhere to sync from: a volunteer mirror offered by the coordinator (with a lease and a promised version), or an official mirror.</summary>
public sealed record SyncSource(string Uri, bool IsOfficial)
{
    public string? LeaseId { get; init; }
    public string? MirrorId { get; init; }
    public TreeVersion? Promised { get; init; }
    public string? Place { get; init; }
    public double? DistanceKm { get; init; }
    public TimeSpan? RoundTrip { get; set; }

    public string Describe() => (IsOfficial ? "official mirror " : "mirror ") + Uri + (Place is { Length: > 0 } p ? $" ({p})" : string.Empty);
}

/// <summary>The coordinator's answer, or what to do without it.</summary>
public sealed record SourcePlan(IReadOnlyList<SyncSource> Candidates, IReadOnlyList<SyncSource> Official)
{
    public bool UpToDate { get; init; }
    public bool CoordinatorReachable { get; init; }
    public string? CoordinatorError { get; init; }

    /// <summary>The coordinator answered, but refused to match for now (rate limit): CoordinatorError says why.</summary>
    public bool CoordinatorRefused { get; init; }
    public TreeVersion? Newest { get; init; }
    public string? Location { get; init; }
}
