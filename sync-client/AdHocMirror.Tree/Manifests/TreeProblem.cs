namespace AdHocMirror.Tree.Manifests;

/// <summary>Why a tree failed verification.</summary>
public enum TreeProblemKind
{
    /// <summary>Top-level Manifest missing, unsigned, or not signed by a key of the keyring.</summary>
    Signature,
    /// <summary>A Manifest that cannot be read or parsed, an unsupported tag, compression or path, or no TIMESTAMP.</summary>
    MalformedManifest,
    /// <summary>A file some Manifest lists is absent.</summary>
    Missing,
    /// <summary>A file is present that no Manifest covers and no IGNORE excludes.</summary>
    Uncovered,
    /// <summary>Size differs from the Manifest.</summary>
    SizeMismatch,
    /// <summary>SHA512 differs from the Manifest.</summary>
    HashMismatch,
    /// <summary>An entry without a SHA512 hash (the hash this verifier checks).</summary>
    UnsupportedHash,
    /// <summary>Two entries disagree about the same path.</summary>
    Conflict,
    /// <summary>The path is not a regular file or cannot be read.</summary>
    Unreadable,
    /// <summary>A symlink that is absolute, dangles, loops or resolves outside the tree.</summary>
    Symlink,
}

/// <summary>One mismatch, by path relative to the tree root ('/'-separated).</summary>
public sealed record TreeProblem(string Path, TreeProblemKind Kind, string Detail)
{
    public override string ToString() => $"{Path}: {Kind}: {Detail}";
}
