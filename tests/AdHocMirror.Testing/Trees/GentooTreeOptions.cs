namespace AdHocMirror.Testing.Trees;

/// <summary>Shape of a generated tree: the same seed and file count always give the same files.</summary>
public sealed class GentooTreeOptions
{
    public int Seed { get; set; } = 1;

    /// <summary>Approximate number of content files (Manifests not counted).</summary>
    public int Files { get; set; } = 60;

    /// <summary>The TIMESTAMP of the signed Manifest (and the commit time of the git form).</summary>
    public DateTimeOffset Timestamp { get; set; } = new(2026, 11, 21, 0, 45, 1, TimeSpan.Zero);
}
