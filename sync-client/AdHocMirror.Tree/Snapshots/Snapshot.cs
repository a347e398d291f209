using AdHocMirror.Tree.Versions;

namespace AdHocMirror.Tree.Snapshots;

/// <summary>A published, verified, immutable snapshot directory and its version.</summary>
public sealed record Snapshot(string Id, string Path, TreeVersion Version, DateTimeOffset PublishedAt);

/// <summary>A directory being filled from upstream; becomes a <see cref="Snapshot"/> once verified and published.</summary>
public sealed record IncomingSnapshot(string Id, string Path, string? LinkDest);
