using System.Collections.Concurrent;
using System.IO.Enumeration;
using AdHocMirror.Tree.Native;

namespace AdHocMirror.Tree.Manifests;

/// <summary>
/// Walks the tree on every core, handing each covered file that must be checked to the caller and reporting uncovered
/// ones. Skips IGNOREd paths, names starting with a dot (GLEP 74 leaves hidden files out of Manifests, as gemato does)
/// and the top-level Manifest. With a reference, directories come from its listings, proven directories are not
/// entered, and files the reference proves unchanged are counted instead of handed over. A directory symlink that
/// stays inside the tree is walked as the directory it leads to (<see cref="TreeLinks"/>): read afresh, every file
/// under it checked, never proven by the reference, whose listings know nothing below a link.
/// </summary>
/// <remarks>
/// A directory with many subdirectories (the root, a category, a cache directory) hands them out to every core; the
/// rest are walked depth-first by the thread that reached them.
/// </remarks>
internal sealed class TreeWalk
{
    private const int FanOut = 8;

    private readonly string _root;
    private readonly ManifestSet _expectations;
    private readonly ConcurrentBag<TreeProblem> _problems;
    private readonly UnchangedReference? _reference;
    private readonly ParallelOptions _parallel;
    private readonly TreeLinks _links;
    private long _budget;
    private long _skipped;
    private volatile bool _stopped;

    public TreeWalk(string root, ManifestSet expectations, ConcurrentBag<TreeProblem> problems, UnchangedReference? reference, ParallelOptions parallel)
    {
        (_root, _expectations, _problems, _reference, _parallel) = (root, expectations, problems, reference, parallel);
        _links = new TreeLinks(root);
        // A tree with a signed entry for every file reached through links needs no more names than its Manifests list;
        // the margin is for the directories themselves. Links in a fan (two links to a directory with two links to ...)
        // would otherwise multiply the paths without end in sight.
        _budget = expectations.Count + 4096L;
    }

    /// <summary>Files not handed over because the reference proves them unchanged.</summary>
    public long Skipped => Interlocked.Read(ref _skipped);

    /// <summary>Walks the whole tree; <paramref name="check"/> is called for each file to check, on the walking thread.</summary>
    public void Run(Action<Expectation> check) => Visit(new Item(string.Empty, _links.Root, false), check);

    private readonly record struct Item(string Relative, TreeLinks.Place Place, bool ViaLink);

    private void Visit(Item item, Action<Expectation> check)
    {
        var pending = new Stack<Item>();
        pending.Push(item);
        while (pending.Count > 0 && !_stopped)
        {
            _parallel.CancellationToken.ThrowIfCancellationRequested();
            var subdirectories = Directory(pending.Pop(), check);
            if (subdirectories.Count >= FanOut)
            {
                Parallel.ForEach(subdirectories, _parallel, next => Visit(next, check));
                continue;
            }

            foreach (var next in subdirectories)
            {
                pending.Push(next);
            }
        }
    }

    /// <summary>Checks one directory's entries; returns the subdirectories to walk.</summary>
    private List<Item> Directory(Item item, Action<Expectation> check)
    {
        var (relative, place, viaLink) = item;
        var subdirectories = new List<Item>();
        var children = _reference is null || viaLink ? Enumerate(relative, viaLink) : Listed(_reference.Listed, relative);
        if (children is null)
        {
            return subdirectories;
        }

        if (viaLink && Interlocked.Add(ref _budget, -children.Count) < 0)
        {
            if (!_stopped)
            {
                _stopped = true;
                _problems.Add(new TreeProblem(relative, TreeProblemKind.Symlink, "too many paths through symlinks: the walk stops here"));
            }

            return subdirectories;
        }

        foreach (var (name, kind) in children)
        {
            if (name.StartsWith('.'))
            {
                continue;
            }

            var path = relative.Length == 0 ? name : relative + "/" + name;
            if (_expectations.IsIgnored(path) || (relative.Length == 0 && name == "Manifest"))
            {
                continue;
            }

            if (kind == EntryKind.Directory && !viaLink && _reference is not null && _reference.Proven.Contains(path))
            {
                Interlocked.Add(ref _skipped, _reference.Listed.CountFiles(path));
                continue;
            }

            var linked = false;
            var isDirectory = kind == EntryKind.Directory;
            TreeLinks.Place? inside = null;
            if (kind == EntryKind.Symlink)
            {
                var verdict = _links.Judge(Path.Combine(_root, path), path, place, out inside, out var refused);
                if (verdict == TreeLinks.Verdict.Refused)
                {
                    _problems.Add(refused!);
                    MarkSeenBelow(path);
                    continue;
                }

                (linked, isDirectory) = (true, verdict == TreeLinks.Verdict.Directory);
            }
            else if (isDirectory && (inside = TreeLinks.Child(place, name)) is null)
            {
                _problems.Add(new TreeProblem(path, TreeProblemKind.Symlink, "symlink loop: this directory was already passed through on the way here"));
                continue;
            }

            if (isDirectory)
            {
                subdirectories.Add(new Item(path, inside!, viaLink || linked));
                continue;
            }

            var expectation = _expectations.Find(path);
            if (expectation is null)
            {
                _problems.Add(new TreeProblem(path, TreeProblemKind.Uncovered, "no Manifest covers this file"));
                continue;
            }

            expectation.Seen = true;
            if (expectation.Entry.Tag == ManifestTag.Manifest || expectation.Entry.Sha512 is null)
            {
                continue; // Sub-Manifests were checked when loaded; hashless entries were reported then.
            }

            if (!viaLink && !linked && _reference is not null && _reference.ProvesUnchanged(relative, name, expectation))
            {
                Interlocked.Increment(ref _skipped);
                continue;
            }

            check(expectation);
        }

        return subdirectories;
    }

    /// <summary>A refused symlink is one problem, not one more "missing" for every entry listed under its path.</summary>
    private void MarkSeenBelow(string path)
    {
        if (_expectations.Find(path) is { } file)
        {
            file.Seen = true;
        }

        var prefix = path + "/";
        foreach (var expectation in _expectations.All())
        {
            if (expectation.Path.StartsWith(prefix, StringComparison.Ordinal))
            {
                expectation.Seen = true;
            }
        }
    }

    private List<(string Name, EntryKind Kind)>? Enumerate(string relative, bool viaLink)
    {
        var full = relative.Length == 0 ? _root : Path.Combine(_root, relative);
        if (DirectoryReader.Supported && !viaLink)
        {
            // Kinds from getdents' d_type: FileSystemEntry.Attributes costs an lstat per name (150,000 in a first sync).
            // Not through a link: the reader does not follow one at the end of the path, and a linked directory's is one.
            var raw = new RawListing();
            if (!DirectoryReader.TryList(full, raw, out _, out _, out var error))
            {
                _problems.Add(new TreeProblem(relative.Length == 0 ? "." : relative, TreeProblemKind.Unreadable, error ?? "cannot list"));
                return null;
            }

            return raw.Named().ConvertAll(e => (e.Name, e.Kind));
        }

        try
        {
            return [.. new FileSystemEnumerable<(string, EntryKind)>(full,
                (ref FileSystemEntry e) => (e.FileName.ToString(),
                    (e.Attributes & FileAttributes.ReparsePoint) != 0 ? EntryKind.Symlink : e.IsDirectory ? EntryKind.Directory : EntryKind.RegularFile),
                new EnumerationOptions { RecurseSubdirectories = false, AttributesToSkip = 0, IgnoreInaccessible = false })];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _problems.Add(new TreeProblem(relative.Length == 0 ? "." : relative, TreeProblemKind.Unreadable, e.Message));
            return null;
        }
    }

    private List<(string Name, EntryKind Kind)>? Listed(ListedTrees listed, string relative)
    {
        var listing = listed.Staged(relative);
        if (listing?.Error is not null || listing is null)
        {
            _problems.Add(new TreeProblem(relative.Length == 0 ? "." : relative, TreeProblemKind.Unreadable, listing?.Error ?? "not listed"));
            return null;
        }

        var children = new List<(string Name, EntryKind Kind)>(listing.Entries.Length);
        foreach (var entry in listing.Entries)
        {
            children.Add((listing.NameString(entry), entry.Kind));
        }

        return children;
    }
}
