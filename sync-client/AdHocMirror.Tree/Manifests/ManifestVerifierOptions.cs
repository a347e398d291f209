namespace AdHocMirror.Tree.Manifests;

/// <summary>Options for <see cref="ManifestTreeVerifier"/>.</summary>
public sealed class ManifestVerifierOptions
{
    /// <summary>Files hashed at once; default every core.</summary>
    public int MaxParallelism { get; set; } = Environment.ProcessorCount;

    /// <summary>
    /// The tree currently in place and previously verified, when the tree being verified was seeded from it with hard
    /// links (rsync <c>--link-dest</c>). Enables the skip-unchanged rule (README "Skipping unchanged files"); null
    /// hashes every file.
    /// </summary>
    public string? UnchangedReference { get; set; }

    /// <summary>
    /// Listings of the tree and of <see cref="UnchangedReference"/> started while the tree was being received; verification
    /// then lists again only the directories changed since. Null lists both trees during verification.
    /// </summary>
    public ListingsAhead? ListedAhead { get; set; }

    /// <summary>
    /// Hashes computed while the tree was being received; verification takes those of files still unchanged since
    /// (judged exactly as its own) and hashes the rest. Stopped when verification starts hashing. Used only for the
    /// tree at its <see cref="FilesHashedAhead.Root"/>.
    /// </summary>
    public FilesHashedAhead? HashedAhead { get; set; }
}
