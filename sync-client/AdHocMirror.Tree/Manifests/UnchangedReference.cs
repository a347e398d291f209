using System.Collections.Concurrent;
using AdHocMirror.Tree.Native;
using AdHocMirror.Tree.OpenPgp;

namespace AdHocMirror.Tree.Manifests;

/// <summary>
/// The skip-unchanged rule. A file need not be hashed again when (1) it is the very same inode (device and inode
/// number, a regular file) as the file at the same path in the reference tree, i.e. a hard link made by rsync
/// <c>--link-dest</c>, which never writes into an existing inode without <c>--inplace</c>; and (2) the reference tree's
/// own Manifests list that path with the same size and SHA512 as the new Manifests do. The reference is the tree in
/// place, verified in full when it was installed; the same inode therefore still holds the content that matched that
/// hash, which is the hash now expected. Anything else (a new inode, a different expected hash, a path the reference
/// did not list) is hashed.
/// </summary>
/// <remarks>
/// The reference's Manifest tree is followed from its top-level Manifest through MANIFEST entries, as verification
/// did. A sub-Manifest that is the same inode in both trees, and that both parents list with the same size and SHA512,
/// has the same bytes in both, in the same directory: its entries in the reference are exactly its entries in the new
/// tree. Such a Manifest is not read again; (2) holds for every file it declares, and its own sub-Manifests are
/// followed from the new tree's copy. Only sub-Manifests that changed are read, checked against their reference entry
/// and parsed. (A full tree has one Manifest per package, ~28,000: reading them twice cost as much as the rest.)
/// </remarks>
internal sealed class UnchangedReference
{
    private readonly string _root;
    private readonly ManifestSet _entries;
    private readonly HashSet<string> _shared;

    private UnchangedReference(string root, ManifestSet entries, HashSet<string> shared)
    {
        _root = root;
        _entries = entries;
        _shared = shared;
    }

    /// <summary>Sub-Manifests of the reference that are the same inode as the new tree's (not read again).</summary>
    public int SharedManifests => _shared.Count;

    public static async Task<UnchangedReference?> LoadAsync(string root, string newRoot, ManifestSet newTree, ParallelOptions parallel)
    {
        byte[] top;
        try
        {
            top = await File.ReadAllBytesAsync(Path.Combine(root, "Manifest"), parallel.CancellationToken);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        var body = ClearSignedText.TryGetBody(top, out _);
        if (body is null)
        {
            return null;
        }

        // The new tree's MANIFEST entries by the Manifest that declares them: the children of a shared Manifest.
        var children = newTree.All()
            .Where(e => e.Entry.Tag == ManifestTag.Manifest)
            .GroupBy(e => e.DeclaredIn, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(e => e.Entry).ToList(), StringComparer.Ordinal);
        var set = new ManifestSet();
        var shared = new HashSet<string>(StringComparer.Ordinal);
        var queue = new List<ManifestEntry>();
        var ignoredProblems = new ConcurrentBag<TreeProblem>();
        set.Add(body, string.Empty, "Manifest", ignoredProblems, queue);
        while (queue.Count > 0)
        {
            var changed = new List<ManifestEntry>();
            var next = new List<ManifestEntry>();
            foreach (var entry in queue)
            {
                if (newTree.Find(entry.Path)?.Entry is { Tag: ManifestTag.Manifest } fresh && SameEntry(fresh, entry)
                    && SameInode(Path.Combine(newRoot, entry.Path), Path.Combine(root, entry.Path), entry.Size))
                {
                    if (shared.Add(entry.Path))
                    {
                        next.AddRange(children.GetValueOrDefault(entry.Path) ?? []);
                    }
                }
                else
                {
                    changed.Add(entry);
                }
            }

            // Changed ones are read, checked and parsed as verification does; their sub-Manifests join the next level.
            await ManifestTreeVerifier.LoadLevelAsync(root, set, changed, next, ignoredProblems, parallel);
            queue = next;
        }

        return new UnchangedReference(root, set, shared);
    }

    public bool ProvesUnchanged(string fullPath, Expectation expected)
    {
        var entry = expected.Entry;
        if (entry.Sha512 is null)
        {
            return false;
        }

        if (!_shared.Contains(expected.DeclaredIn))
        {
            var old = _entries.Find(entry.Path)?.Entry;
            if (old?.Sha512 is null || old.Size != entry.Size || !old.Sha512.AsSpan().SequenceEqual(entry.Sha512))
            {
                return false;
            }
        }

        return SameInode(fullPath, Path.Combine(_root, entry.Path), entry.Size);
    }

    private static bool SameEntry(ManifestEntry a, ManifestEntry b) =>
        a.Size == b.Size && a.Sha512 is { } x && b.Sha512 is { } y && x.AsSpan().SequenceEqual(y);

    private static bool SameInode(string fresh, string reference, long size) =>
        FileIdentity.TryGet(fresh, out var a) && a.IsRegularFile
        && FileIdentity.TryGet(reference, out var b)
        && a.Device == b.Device && a.Inode == b.Inode && a.Size == size;
}
