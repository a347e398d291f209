using System.Collections.Concurrent;
using System.Text;
using AdHocMirror.Tree.Native;

namespace AdHocMirror.Tree.Manifests;

/// <summary>
/// Every directory listing (names, kinds, inode numbers) of the tree being verified and of the reference tree, read
/// once and in parallel, and what they prove: which files are the very inode the reference holds at the same path, and
/// which whole subtrees bind every name to the same inode as the reference does. Names starting with a dot and
/// IGNOREd paths are left out, as the walk leaves them out. Names stay UTF-8 bytes: a full tree is 400,000 names for
/// two trees, and a string for each cost more in allocation and garbage collection than reading them.
/// </summary>
internal sealed partial class ListedTrees
{
    private readonly ConcurrentDictionary<string, Listing> _staged;
    private readonly IReadOnlyDictionary<string, Listing> _reference;
    private readonly ulong _device;

    // Per staged directory, summed up once and on every core: a full tree has 36,000 directories, and the triage, the
    // walk and the delta each ask about most of them.
    private readonly ConcurrentDictionary<string, Subtree> _subtrees;

    private ListedTrees(ConcurrentDictionary<string, Listing> staged, IReadOnlyDictionary<string, Listing> reference, ulong device)
    {
        _staged = staged;
        _reference = reference;
        _device = device;
        _subtrees = Listings<Subtree>(staged.Count);
    }

    /// <summary>A staged directory's subtree: whether all of it is bound as in the reference, and how many files it holds.</summary>
    private readonly record struct Subtree(bool Identical, long Files);

    /// <summary>
    /// Lists both trees, or returns null when listings cannot prove anything here (not Linux, the two trees on different
    /// devices, or a filesystem whose directory inode numbers are not the files' own). With listings read
    /// <paramref name="ahead"/> (made with the same IGNOREs), a directory is listed again only when its stamp changed since.
    /// </summary>
    public static ListedTrees? Read(string stagedRoot, string referenceRoot, IReadOnlyCollection<string> ignored, ParallelOptions parallel, ListedAhead? ahead = null)
    {
        if (!CanProveIdentity(stagedRoot, referenceRoot, out var device))
        {
            return null;
        }

        var staged = Listings<Listing>(ahead?.Staged.Count);
        // The reference's listings read ahead are taken as they are, without a second look at its 36,000 directory
        // stamps: nothing of this sync writes into the tree in place, and the rule trusts that tree as it is whenever it
        // is read (its inodes were verified when it was installed), so a listing of it from during the transfer proves
        // as much as one from after. The staged tree's are taken only where its directory stamps show rsync did not
        // write since.
        ListedTrees trees;
        if (ahead is not null)
        {
            // Each top-level directory is summed up by the thread that has just listed it, while its listings are in cache.
            trees = new ListedTrees(staged, ahead.Reference, device);
            ListInto([new(stagedRoot, staged, ahead.Staged)], IgnoredByDirectory(ignored), ahead.ListedFrom, parallel, top => trees.SumUp(top));
        }
        else
        {
            var reference = Listings<Listing>(null);
            trees = new ListedTrees(staged, reference, device);
            ListInto([new(stagedRoot, staged, null), new(referenceRoot, reference, null)], IgnoredByDirectory(ignored), null, parallel);
            trees.SumUpTops(parallel);
        }

        trees.SumUpRoot();
        return trees;
    }

    /// <summary>Every directory of the staged tree that was listed (relative).</summary>
    public ICollection<string> StagedDirectories => _staged.Keys;

    /// <summary>The staged tree's listing of <paramref name="directory"/> (relative, "" for the root), null if not listed.</summary>
    public Listing? Staged(string directory) => _staged.GetValueOrDefault(directory);

    /// <summary>Whether the staged file is a regular file and the same inode as the reference's file at the same path.</summary>
    public bool SameFile(string directory, string name)
    {
        if (!_staged.TryGetValue(directory, out var staged) || !_reference.TryGetValue(directory, out var reference)
            || staged.Device != _device || reference.Device != _device)
        {
            return false;
        }

        Span<byte> bytes = stackalloc byte[Encoding.UTF8.GetMaxByteCount(name.Length)];
        var key = bytes[..Encoding.UTF8.GetBytes(name, bytes)];
        var (a, b) = (staged.IndexOf(key), reference.IndexOf(key));
        return a >= 0 && b >= 0 && staged.Entries[a] is { Kind: EntryKind.RegularFile } x && reference.Entries[b] is { Kind: EntryKind.RegularFile } y
            && x.Inode == y.Inode;
    }

    /// <summary>
    /// Whether every name below <paramref name="directory"/> (relative, not the root) is bound to the same inode as in the
    /// reference: same names, same kinds, regular files the same inodes, subdirectories alike all the way down. Symlinks
    /// and special files never count as the same (a symlink's target may lie outside the subtree).
    /// </summary>
    public bool IsIdenticalSubtree(string directory) => _subtrees.TryGetValue(directory, out var subtree) && subtree.Identical;

    /// <summary>Regular files and symlinks in the staged subtree below <paramref name="directory"/>.</summary>
    public long CountFiles(string directory) => _subtrees.TryGetValue(directory, out var subtree) ? subtree.Files : 0;

    /// <summary>Sums up every top-level directory's subtree (children before parents), each on its own core.</summary>
    private void SumUpTops(ParallelOptions parallel)
    {
        if (_staged.TryGetValue(string.Empty, out var root))
        {
            Parallel.ForEach(root.Entries.Where(e => e.Kind == EntryKind.Directory).Select(e => root.NameString(e)), parallel, top => SumUp(top));
        }
    }

    /// <summary>Sums up the root from its top-level directories' sums.</summary>
    private void SumUpRoot() => SumUp(string.Empty, summed: true);

    private Subtree SumUp(string directory, bool summed = false)
    {
        if (!_staged.TryGetValue(directory, out var listing))
        {
            return default; // Not listed: nothing below it is proven.
        }

        var identical = IsIdenticalListing(directory, listing);
        long files = 0;
        foreach (var entry in listing.Entries)
        {
            if (entry.Kind != EntryKind.Directory)
            {
                files++;
                continue;
            }

            var child = directory.Length == 0 ? listing.NameString(entry) : directory + "/" + listing.NameString(entry);
            var below = summed ? _subtrees.GetValueOrDefault(child) : SumUp(child);
            identical &= below.Identical;
            files += below.Files;
        }

        var subtree = new Subtree(identical, files);
        _subtrees[directory] = subtree;
        return subtree;
    }

    /// <summary>Staged directories (parents before children) whose own listing differs from the reference's, and how.</summary>
    public TreeDelta Delta()
    {
        var changes = new List<DirectoryDelta>();
        foreach (var directory in Differing().Order(StringComparer.Ordinal))
        {
            var staged = _staged[directory];
            var reference = _reference.GetValueOrDefault(directory);
            if (staged.Error is not null || reference?.Error is not null)
            {
                continue;
            }

            List<string> remove = [], create = [], link = [];
            void Add(Listing listing, in RawEntry entry) =>
                (entry.Kind == EntryKind.Directory ? create : link).Add(listing.NameString(entry));
            var (mine, theirs) = (staged.Entries, reference?.Entries ?? []);
            int i = 0, j = 0;
            while (i < mine.Length || j < theirs.Length)
            {
                var order = i == mine.Length ? 1 : j == theirs.Length ? -1 : staged.NameOf(mine[i]).SequenceCompareTo(reference!.NameOf(theirs[j]));
                if (order < 0)
                {
                    Add(staged, mine[i++]);
                }
                else if (order > 0)
                {
                    remove.Add(reference!.NameString(theirs[j++]));
                }
                else
                {
                    var (a, b) = (mine[i++], theirs[j++]);
                    if (a.Kind != b.Kind)
                    {
                        remove.Add(reference!.NameString(b));
                        Add(staged, a);
                    }
                    else if (a.Kind != EntryKind.Directory && (a.Kind != EntryKind.RegularFile || a.Inode != b.Inode))
                    {
                        Add(staged, a);
                    }
                }
            }

            changes.Add(new DirectoryDelta(directory, remove, create, link));
        }

        return new TreeDelta(changes);
    }

    /// <summary>Staged directories whose own listing differs from the reference's; identical subtrees are not entered.</summary>
    private List<string> Differing()
    {
        var differing = new List<string>();
        var pending = new Stack<string>();
        pending.Push(string.Empty);
        while (pending.Count > 0)
        {
            var directory = pending.Pop();
            if (!_staged.TryGetValue(directory, out var staged) || IsIdenticalSubtree(directory))
            {
                continue;
            }

            if (!IsIdenticalListing(directory, staged))
            {
                differing.Add(directory);
            }

            foreach (var entry in staged.Entries)
            {
                if (entry.Kind == EntryKind.Directory)
                {
                    pending.Push(directory.Length == 0 ? staged.NameString(entry) : directory + "/" + staged.NameString(entry));
                }
            }
        }

        return differing;
    }

    private bool IsIdenticalListing(string directory, Listing staged)
    {
        if (!_reference.TryGetValue(directory, out var reference)
            || staged.Error is not null || reference.Error is not null || staged.Device != _device || reference.Device != _device
            || staged.Entries.Length != reference.Entries.Length)
        {
            return false;
        }

        for (var i = 0; i < staged.Entries.Length; i++)
        {
            var (a, b) = (staged.Entries[i], reference.Entries[i]);
            if (a.Kind != b.Kind || !staged.NameOf(a).SequenceEqual(reference.NameOf(b))
                || a.Kind switch { EntryKind.RegularFile => a.Inode != b.Inode, EntryKind.Directory => false, _ => true })
            {
                return false;
            }
        }

        return true;
    }

}
