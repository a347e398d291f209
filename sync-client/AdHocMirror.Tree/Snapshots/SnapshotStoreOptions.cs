namespace AdHocMirror.Tree.Snapshots;

/// <summary>Options for <see cref="SnapshotStore"/>.</summary>
public sealed class SnapshotStoreOptions
{
    /// <summary>The store's directory: <c>snapshots/</c>, <c>incoming/</c>, <c>meta/</c> and the <c>current</c> symlink.</summary>
    public string Root { get; set; } = string.Empty;

    /// <summary>
    /// How long a snapshot stays after it stops being current before it may be removed, even when no process is seen
    /// inside it. Covers a connection that resolved the old path just before the swap.
    /// </summary>
    public TimeSpan RetireGrace { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Retired snapshots kept regardless of age (as --link-dest bases and for rollback investigation).</summary>
    public int KeepRetired { get; set; } = 1;
}
