using AdHocMirror.Contracts.V1;
using TreeVersion = AdHocMirror.Tree.Versions.TreeVersion;

namespace AdHocMirror.Daemon.Snapshots;

public enum SyncResultKind
{
    /// <summary>A newer verified tree is now served.</summary>
    Published,
    /// <summary>Upstream has the tree we already serve.</summary>
    UpToDate,
    /// <summary>Nothing changed: upstream was down, or its tree failed verification or was older.</summary>
    Failed,
}

/// <summary>How one sync from one upstream went; <see cref="Outcome"/> is what a coordinator lease is released with.</summary>
public sealed record SyncResult(SyncResultKind Kind, TreeVersion? Version, string Detail, SyncOutcome Outcome, long Bytes = 0)
{
    public static SyncResult Failed(SyncOutcome outcome, string detail) => new(SyncResultKind.Failed, null, detail, outcome);
}

/// <summary>One protocol's snapshots: fetched from an upstream, verified, published atomically.</summary>
public interface ISnapshotSource
{
    Protocol Protocol { get; }

    /// <summary>The version of the snapshot already published (from an earlier run), re-checked; null when none.</summary>
    Task<(TreeVersion Version, string Snapshot)?> RestoreAsync(CancellationToken cancellationToken);

    /// <summary>Fetches from <paramref name="upstream"/> into a new snapshot, verifies, and publishes it if newer.</summary>
    Task<SyncResult> SyncAsync(string upstream, TreeVersion? promised, CancellationToken cancellationToken);

    /// <summary>Snapshot id or commit served now.</summary>
    string? CurrentSnapshot { get; }

    /// <summary>Start serving (once something is published).</summary>
    void StartServing();
}
