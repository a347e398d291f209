using System.Collections.Concurrent;
using System.Text;
using AdHocMirror.Tree.Native;

namespace AdHocMirror.Tree.Manifests;

/// <summary>Reading the listings: one directory at a time with getdents, each tree's directories on every core.</summary>
internal sealed partial class ListedTrees
{
    [ThreadStatic] private static RawListing? t_scratch;

    /// <summary>One directory: its entries sorted by name bytes, its device and stamp, or why it could not be read.</summary>
    internal sealed class Listing(byte[] names, RawEntry[] entries, ulong device, DirectoryStamp stamp, string? error)
    {
        public RawEntry[] Entries { get; } = entries;

        public ulong Device { get; } = device;

        public DirectoryStamp Stamp { get; } = stamp;

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

    /// <summary>Whether listings can prove files the same here: both trees on one device whose directory entries carry the inodes' own numbers.</summary>
    internal static bool CanProveIdentity(string stagedRoot, string referenceRoot, out ulong device) =>
        DirectoryReader.HasFaithfulInodes(stagedRoot, out device) && DirectoryReader.HasFaithfulInodes(referenceRoot, out var other) && device == other;

    /// <summary>A map for a tree's listings, sized for as many directories as listed before (growing one is costly at 36,000).</summary>
    internal static ConcurrentDictionary<string, T> Listings<T>(int? expected) =>
        new(Environment.ProcessorCount, Math.Max(31, (int)((expected ?? 0) * 1.1)), StringComparer.Ordinal);

    /// <summary>Where one tree's listings go, and the listings read of it earlier (if any).</summary>
    internal sealed record TreeToList(string Root, ConcurrentDictionary<string, Listing> Into, IReadOnlyDictionary<string, Listing>? Earlier);

    /// <summary>IGNOREd names by the directory holding them: only those few directories need a path built per name.</summary>
    internal static Dictionary<string, HashSet<string>> IgnoredByDirectory(IReadOnlyCollection<string> ignored) =>
        ignored.GroupBy(p => UnchangedReference.Split(p).Directory, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(p => UnchangedReference.Split(p).Name).ToHashSet(StringComparer.Ordinal), StringComparer.Ordinal);

    /// <summary>
    /// Lists every directory of the trees (not entering hidden or IGNOREd names). An earlier listing is kept when it was
    /// stamped before <paramref name="earlierFrom"/> (the clock reading taken before it was made) and the directory's
    /// stamp is still the same: no name of it was added, removed or rebound since.
    /// </summary>
    /// <remarks>With <paramref name="listedTop"/>, called for each top-level directory once all of it is listed (only for a single tree).</remarks>
    internal static void ListInto(IReadOnlyList<TreeToList> trees, Dictionary<string, HashSet<string>> ignoredIn, ClockReading? earlierFrom, ParallelOptions parallel, Action<string>? listedTop = null)
    {
        var tops = new List<(TreeToList Tree, string Relative)>();
        foreach (var tree in trees)
        {
            var top = Current(tree, string.Empty, ignoredIn, earlierFrom);
            tree.Into[string.Empty] = top;
            tops.AddRange(top.Entries.Where(e => e.Kind == EntryKind.Directory).Select(e => (tree, top.NameString(e))));
        }

        // Each top-level directory (a category) is listed depth-first on one thread; there are hundreds, for every core.
        Parallel.ForEach(tops, parallel, item =>
        {
            var pending = new Stack<string>();
            pending.Push(item.Relative);
            while (pending.Count > 0)
            {
                var relative = pending.Pop();
                var listing = Current(item.Tree, relative, ignoredIn, earlierFrom);
                item.Tree.Into[relative] = listing;
                foreach (var entry in listing.Entries)
                {
                    if (entry.Kind == EntryKind.Directory)
                    {
                        pending.Push(relative + "/" + listing.NameString(entry));
                    }
                }
            }

            listedTop?.Invoke(item.Relative);
        });
    }

    private static Listing Current(TreeToList tree, string relative, Dictionary<string, HashSet<string>> ignoredIn, ClockReading? earlierFrom)
    {
        var path = relative.Length == 0 ? tree.Root : Path.Combine(tree.Root, relative);
        if (earlierFrom is { } clock && tree.Earlier is not null && tree.Earlier.TryGetValue(relative, out var before) && before.Error is null
            && before.Stamp.IsBefore(clock) && DirectoryReader.TryStamp(path, out var now) && now == before.Stamp)
        {
            return before;
        }

        return List(path, ignoredIn.GetValueOrDefault(relative));
    }

    private static Listing List(string path, HashSet<string>? ignored)
    {
        var raw = t_scratch ??= new RawListing();
        raw.Used = 0;
        raw.Entries.Clear();
        if (!DirectoryReader.TryList(path, raw, out var device, out var stamp, out var error))
        {
            return new Listing([], [], device, default, error);
        }

        var names = raw.Names.AsSpan(0, raw.Used).ToArray();
        var kept = new RawEntry[raw.Entries.Count];
        var count = 0;
        foreach (var entry in raw.Entries)
        {
            if (names[entry.Offset] != (byte)'.' && (ignored is null || !ignored.Contains(Encoding.UTF8.GetString(names, entry.Offset, entry.Length))))
            {
                kept[count++] = entry;
            }
        }

        Array.Resize(ref kept, count);
        kept.AsSpan().Sort(new ByName(names));
        return new Listing(names, kept, device, stamp, null);
    }

    private readonly struct ByName(byte[] names) : IComparer<RawEntry>
    {
        public int Compare(RawEntry x, RawEntry y) => names.AsSpan(x.Offset, x.Length).SequenceCompareTo(names.AsSpan(y.Offset, y.Length));
    }
}
