using AdHocMirror.Tree.Versions;

namespace AdHocMirror.Tree.Manifests;

/// <summary>The result of verifying a tree: its signed version when it verified, else every problem by path.</summary>
public sealed record TreeVerification
{
    public required IReadOnlyList<TreeProblem> Problems { get; init; }

    /// <summary>The signed version; set whenever the signature and TIMESTAMP were good, even if files failed.</summary>
    public TreeVersion? SignedVersion { get; init; }

    /// <summary>Primary fingerprint of the key that signed the top-level Manifest (or head commit).</summary>
    public string? SignedBy { get; init; }

    public long FilesChecked { get; init; }

    public long BytesChecked { get; init; }

    /// <summary>Of <see cref="FilesChecked"/>, those whose hash was computed while the tree arrived (<see cref="FilesHashedAhead"/>).</summary>
    public long FilesHashedAhead { get; init; }

    /// <summary>Files not hashed because the skip-unchanged rule proved them unchanged.</summary>
    public long FilesSkipped { get; init; }

    /// <summary>With a reference (skip-unchanged rule) on a filesystem where listings prove identity: what differs from it.</summary>
    public TreeDelta? Delta { get; init; }

    public TimeSpan Elapsed { get; init; }

    /// <summary>Where <see cref="Elapsed"/> went, in order (e.g. "signature", "sub-Manifests"): for the sync's report.</summary>
    public IReadOnlyList<VerificationPhase> Phases { get; init; } = [];

    public bool Succeeded => Problems.Count == 0 && SignedVersion is not null;

    /// <summary>The verified version; throws when the tree did not verify.</summary>
    public TreeVersion Version => Succeeded ? SignedVersion!.Value
        : throw new InvalidOperationException("the tree did not verify: " + Summary);

    public string Summary => Succeeded ? $"verified {SignedVersion}"
        : Problems.Count == 0 ? "no signed version"
        : $"{Problems.Count} problem(s), first: {Problems[0]}";
}

/// <summary>One step of a verification and how long it took.</summary>
public readonly record struct VerificationPhase(string Name, TimeSpan Elapsed);

/// <summary>
/// How a verified tree differs from the reference it was verified against, by directory listing: per directory whose
/// names are not all bound to the same inodes as the reference's (parents first), what would make the reference's
/// directory the same: names to remove, directories to create, names to hard-link from the new tree. Hidden and
/// IGNOREd names are left out. Lets the reference be made a clone of the new tree with a few hundred links.
/// </summary>
public sealed record TreeDelta(IReadOnlyList<DirectoryDelta> Directories);

/// <summary>One directory of <see cref="TreeDelta"/> (relative, "" for the root).</summary>
public sealed record DirectoryDelta(string Directory, IReadOnlyList<string> Remove, IReadOnlyList<string> Create, IReadOnlyList<string> Link);
