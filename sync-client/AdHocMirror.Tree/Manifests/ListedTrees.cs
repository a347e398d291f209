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
internal sealed class ListedTrees
{
    [ThreadStatic] private static RawListing? t_scratch;
    private readonly ConcurrentDictionary<string, Listing> _staged;
    private readonly ConcurrentDictionary<string, Listing> _reference;
    private readonly ulong _device;
    private readonly Dictionary<string, bool> _subtrees = new(StringComparer.Ordinal);

    private ListedTrees(ConcurrentDictionary<string, Listing> staged, ConcurrentDictionary<string, Listing> reference, ulong device)
    {
        _staged = staged;
        _reference = reference;
        _device = device;
    }

    /// <summary>One directory: its entries sorted by name bytes, its device, or why it could not be read.</summary>
    internal sealed class Listing(byte[] names, RawEntry[] entries, ulong device, string? error)
    {
        public RawEntry[] Entries { get; } = entries;

        public ulong Device { get; } = device;

        public string? Error { get; } = error;

        public ReadOnlySpan<byte> NameOf(in RawEntry entry) => names.AsSpan(entry.Offset, entry.Length);

        public string NameString(in RawEntry entry) => Encoding.UTF8.GetString(NameOf(entry));

        public int IndexOf(ReadOnlySpan<byte> name)
        {
            var low = 0;
            var high = Entries.Length - 1;
            while (low <= high)
            {
                var middle = (low + high) >>> 1;
                var order = NameOf(Entries[middle]).SequenceCompareTo(name);
                if (order == 0)
                {
                    return middle;
                }

                if (order < 0)
                {
                    low = middle + 1;
                }
                else
                {
                    high = middle - 1;
                }
            }

            return -1;
        }
    }

    /// <summary>
    /// Lists both trees, or returns null when listings cannot prove anything here (not Linux, the two trees on different
    /// devices, or a filesystem whose directory inode numbers are not the files' own).
    /// </summary>
    public static ListedTrees? Read(string stagedRoot, string referenceRoot, IReadOnlyCollection<string> ignored, ParallelOptions parallel)
    {
        if (!DirectoryReader.HasFaithfulInodes(stagedRoot, out var device) || !DirectoryReader.HasFaithfulInodes(referenceRoot, out var other) || device != other)
        {
            return null;
        }

        // IGNOREd names by the directory holding them: only those few directories need a path built per name.
        var ignoredIn = ignored.GroupBy(p => UnchangedReference.Split(p).Directory, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(p => UnchangedReference.Split(p).Name).ToHashSet(StringComparer.Ordinal), StringComparer.Ordinal);
        var staged = new ConcurrentDictionary<string, Listing>(StringComparer.Ordinal);
        var reference = new ConcurrentDictionary<string, Listing>(StringComparer.Ordinal);
        var tops = new List<(string Root, ConcurrentDictionary<string, Listing> Into, string Relative)>();
        foreach (var (root, into) in new[] { (stagedRoot, staged), (referenceRoot, reference) })
        {
            var top = List(root, string.Empty, ignoredIn);
            into[string.Empty] = top;
            tops.AddRange(top.Entries.Where(e => e.Kind == EntryKind.Directory).Select(e => (root, into, top.NameString(e))));
        }

        // Each top-level directory (a category) is listed depth-first on one thread; there are hundreds, for every core.
        Parallel.ForEach(tops, parallel, item =>
        {
            var pending = new Stack<string>();
            pending.Push(item.Relative);
            while (pending.Count > 0)
            {
                var relative = pending.Pop();
                var listing = List(item.Root, relative, ignoredIn);
                item.Into[relative] = listing;
                foreach (var entry in listing.Entries)
                {
                    if (entry.Kind == EntryKind.Directory)
                    {
                        pending.Push(relative + "/" + listing.NameString(entry));
                    }
                }
            }
        });
        return new ListedTrees(staged, reference, device);
    }

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
    public bool IsIdenticalSubtree(string directory)
    {
        lock (_subtrees)
        {
            if (_subtrees.TryGetValue(directory, out var known))
            {
                return known;
            }
        }

        var identical = IsIdenticalListing(directory);
        if (identical)
        {
            var listing = _staged[directory];
            foreach (var entry in listing.Entries)
            {
                if (entry.Kind == EntryKind.Directory && !IsIdenticalSubtree(directory + "/" + listing.NameString(entry)))
                {
                    identical = false;
                    break;
                }
            }
        }

        lock (_subtrees)
        {
            _subtrees[directory] = identical;
        }

        return identical;
    }

    /// <summary>Regular files and symlinks in the staged subtree below <paramref name="directory"/>.</summary>
    public long CountFiles(string directory)
    {
        if (!_staged.TryGetValue(directory, out var listing))
        {
            return 0;
        }

        long count = 0;
        foreach (var entry in listing.Entries)
        {
            count += entry.Kind == EntryKind.Directory ? CountFiles(directory + "/" + listing.NameString(entry)) : 1;
        }

        return count;
    }

    /// <summary>Staged directories (parents before children) whose own listing differs from the reference's, and how.</summary>
    public TreeDelta Delta()
    {
        var changes = new List<DirectoryDelta>();
        foreach (var directory in _staged.Keys.Where(d => !IsIdenticalListing(d)).Order(StringComparer.Ordinal))
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

    private bool IsIdenticalListing(string directory)
    {
        if (!_staged.TryGetValue(directory, out var staged) || !_reference.TryGetValue(directory, out var reference)
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

    private static Listing List(string root, string relative, Dictionary<string, HashSet<string>> ignoredIn)
    {
        var raw = t_scratch ??= new RawListing();
        raw.Used = 0;
        raw.Entries.Clear();
        if (!DirectoryReader.TryList(relative.Length == 0 ? root : Path.Combine(root, relative), raw, out var device, out var error))
        {
            return new Listing([], [], device, error);
        }

        var ignored = ignoredIn.GetValueOrDefault(relative);
        var names = raw.Names.AsSpan(0, raw.Used).ToArray();
        var kept = raw.Entries.Where(e => names[e.Offset] != (byte)'.' && (ignored is null || !ignored.Contains(Encoding.UTF8.GetString(names, e.Offset, e.Length)))).ToArray();
        Array.Sort(kept, (a, b) => names.AsSpan(a.Offset, a.Length).SequenceCompareTo(names.AsSpan(b.Offset, b.Length)));
        return new Listing(names, kept, device, null);
    }
}
