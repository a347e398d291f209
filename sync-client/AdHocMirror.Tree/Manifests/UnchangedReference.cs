using System.Text;
using AdHocMirror.Tree.Native;
using AdHocMirror.Tree.OpenPgp;

namespace AdHocMirror.Tree.Manifests;

/// <summary>
/// The skip-unchanged rule, decided from directory listings of both trees (<see cref="ListedTrees"/>). A file need not
/// be hashed again when (1) it is the very same inode as the file at the same path in the reference tree, the tree in
/// place and verified in full when it was installed (rsync never writes into an existing inode without
/// <c>--inplace</c>, so that inode still holds the bytes that matched); and (2) the reference's Manifest at the same
/// path as the one declaring it holds the very same line (same path, size and hashes). Anything else (a new inode, a
/// changed line, a path the reference did not list or IGNOREd) is hashed.
/// </summary>
/// <remarks>
/// Whole subtrees: when a sub-Manifest's line is the same in both trees and every name below its directory is bound
/// to the same inode as in the reference (same names, kinds and inodes, all the way down), that directory is byte for
/// byte the reference's, which was verified against the same signed entry: neither its Manifest nor its files are read.
/// Not when an IGNORE of either tree touches that directory (the reference might not have verified all of it).
/// The reference's Manifests are read only where the new tree's changed, and only as sets of lines, never parsed: its
/// Manifests were verified with it, and the rule trusts the installed tree as it is. A sub-Manifest that is the same
/// inode in both is not read from the reference at all: its lines there are its lines here. (A full tree has ~28,000
/// package Manifests and 178,000 files; an incremental sync changes a few hundred.)
/// </remarks>
internal sealed class UnchangedReference
{
    private readonly string _root;
    private readonly Dictionary<string, HashSet<string>> _lines = new(StringComparer.Ordinal);
    private readonly IgnoredPaths _ignored = new();
    private readonly HashSet<string> _shared = new(StringComparer.Ordinal);
    private IReadOnlyDictionary<string, HashSet<string>>? _ahead;

    private UnchangedReference(string root, ListedTrees listed)
    {
        _root = root;
        Listed = listed;
    }

    public ListedTrees Listed { get; }

    /// <summary>Directories (relative) proven identical to the reference's as a whole: the walk does not enter them.</summary>
    public HashSet<string> Proven { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Reads the reference's top-level Manifest and lists both trees; null (hash everything) when the reference has no
    /// readable Manifest or listings cannot prove identity on this filesystem.
    /// </summary>
    public static async Task<UnchangedReference?> OpenAsync(string root, string newRoot, ManifestSet newTree, ParallelOptions parallel, ListingsAhead? ahead)
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

        var earlier = ahead is null ? null : await ahead.TakeAsync(newRoot, root, newTree.Ignored);
        var listed = await Task.Run(() => ListedTrees.Read(newRoot, root, newTree.Ignored, parallel, earlier), parallel.CancellationToken);
        if (listed is null)
        {
            return null;
        }

        var reference = new UnchangedReference(root, listed) { _ahead = earlier?.ReferenceManifests };
        reference.Keep("Manifest", LineSet(body));
        return reference;
    }

    /// <summary>
    /// Sorts one level of the new tree's sub-Manifests: a proven subtree's Manifest is not loaded at all; the others go
    /// to <paramref name="load"/>, and the paths of the reference's Manifests to read as lines to <paramref name="loadOld"/>.
    /// </summary>
    public void Triage(ManifestEntry entry, ManifestSet newTree, List<ManifestEntry> load, List<string> loadOld)
    {
        var expectation = newTree.Find(entry.Path);
        load.Add(entry);
        if (expectation is null || !SameLine(expectation))
        {
            loadOld.Add(entry.Path);
            return;
        }

        var (directory, name) = Split(entry.Path);
        if (directory.Length > 0 && !newTree.IgnoreTouches(directory) && !_ignored.Touches(directory) && Listed.IsIdenticalSubtree(directory))
        {
            load.RemoveAt(load.Count - 1);
            expectation.Seen = true;
            Proven.Add(directory);
        }
        else if (Listed.SameFile(directory, name))
        {
            _shared.Add(entry.Path);
        }
        else
        {
            loadOld.Add(entry.Path);
        }
    }

    /// <summary>Reads the reference's Manifests at <paramref name="paths"/> (where it has them) as sets of lines.</summary>
    public async Task LoadAsync(IReadOnlyList<string> paths, ParallelOptions parallel)
    {
        var read = new HashSet<string>?[paths.Count];
        await Task.Run(() => Parallel.For(0, paths.Count, parallel, i => read[i] = _ahead?.GetValueOrDefault(paths[i]) ?? ReadLineSet(Path.Combine(_root, paths[i]))), parallel.CancellationToken);
        for (var i = 0; i < paths.Count; i++)
        {
            if (read[i] is { } lines)
            {
                Keep(paths[i], lines);
            }
        }
    }

    /// <summary>Whether the file <paramref name="name"/> in <paramref name="directory"/> is proven to hold the bytes now expected.</summary>
    public bool ProvesUnchanged(string directory, string name, Expectation expected) =>
        expected.Entry.Sha512 is not null && SameLine(expected) && Listed.SameFile(directory, name)
        && !_ignored.Touches(expected.Path);

    /// <summary>Whether <paramref name="path"/> lies inside a proven directory.</summary>
    public bool IsInsideProven(string path)
    {
        for (var slash = path.LastIndexOf('/'); slash > 0; slash = path.LastIndexOf('/', slash - 1))
        {
            if (Proven.Contains(path[..slash]))
            {
                return true;
            }
        }

        return false;
    }

    public static (string Directory, string Name) Split(string path)
    {
        var slash = path.LastIndexOf('/');
        return slash < 0 ? (string.Empty, path) : (path[..slash], path[(slash + 1)..]);
    }

    /// <summary>The reference declares the same entry: a shared Manifest, or the same line in its Manifest at that path.</summary>
    private bool SameLine(Expectation expectation) =>
        _shared.Contains(expectation.DeclaredIn) || (_lines.TryGetValue(expectation.DeclaredIn, out var lines) && lines.Contains(expectation.Line));

    private void Keep(string manifest, HashSet<string> lines)
    {
        var directory = Split(manifest).Directory;
        foreach (var line in lines)
        {
            if (line.StartsWith("IGNORE ", StringComparison.Ordinal) && ManifestEntry.Parse(line, directory, out _) is { } ignore)
            {
                _ignored.Add(ignore.Path);
            }
        }

        _lines[manifest] = lines;
    }

    /// <summary>A Manifest's lines as a set, without trailing CRs, as <see cref="SameLine"/> compares them.</summary>
    internal static HashSet<string> LineSet(IReadOnlyList<string> lines)
    {
        var set = new HashSet<string>(lines.Count, StringComparer.Ordinal);
        foreach (var line in lines)
        {
            set.Add(line.TrimEnd('\r'));
        }

        return set;
    }

    /// <summary>The lines of the reference's Manifest at <paramref name="path"/> (full), or null when it cannot be read.</summary>
    internal static HashSet<string>? ReadLineSet(string path)
    {
        try
        {
            if (!FileIdentity.IsRegularFileOrUnknown(path))
            {
                return null;
            }

            // Read synchronously on the loop's worker: a few hundred small files, where an asynchronous read costs more than the read.
            return LineSet(ManifestText.Lines(File.ReadAllBytes(path), gzip: path.EndsWith(".gz", StringComparison.Ordinal)));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException or DecoderFallbackException)
        {
            return null;
        }
    }
}
