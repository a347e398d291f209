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
internal sealed class UnchangedReference
{
    private readonly string _root;
    private readonly ManifestSet _entries;

    private UnchangedReference(string root, ManifestSet entries)
    {
        _root = root;
        _entries = entries;
    }

    public static async Task<UnchangedReference?> LoadAsync(string root, ParallelOptions parallel)
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

        var set = new ManifestSet();
        var queue = new List<ManifestEntry>();
        var ignoredProblems = new ConcurrentBag<TreeProblem>();
        set.Add(body, string.Empty, "Manifest", ignoredProblems, queue);
        await ManifestTreeVerifier.LoadSubManifestsAsync(root, set, queue, ignoredProblems, parallel);
        return new UnchangedReference(root, set);
    }

    public bool ProvesUnchanged(string fullPath, ManifestEntry expected)
    {
        var old = _entries.Find(expected.Path)?.Entry;
        if (old?.Sha512 is null || expected.Sha512 is null || old.Size != expected.Size || !old.Sha512.AsSpan().SequenceEqual(expected.Sha512))
        {
            return false;
        }

        return FileIdentity.TryGet(fullPath, out var fresh) && fresh.IsRegularFile
            && FileIdentity.TryGet(Path.Combine(_root, expected.Path), out var reference)
            && fresh.Device == reference.Device && fresh.Inode == reference.Inode && fresh.Size == expected.Size;
    }
}
