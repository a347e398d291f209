using System.Collections.Concurrent;

namespace AdHocMirror.Tree.Manifests;

/// <summary>A file some Manifest lists, and whether the walk found it.</summary>
internal sealed class Expectation(ManifestEntry entry, string declaredIn)
{
    public ManifestEntry Entry { get; } = entry;

    public string DeclaredIn { get; } = declaredIn;

    public string Path => Entry.Path;

    public bool Seen { get; set; }
}

/// <summary>Every entry of a Manifest tree by path, plus the IGNOREd paths.</summary>
internal sealed class ManifestSet
{
    private readonly Dictionary<string, Expectation> _entries = new(StringComparer.Ordinal);
    private readonly HashSet<string> _ignored = new(StringComparer.Ordinal);

    public int Count => _entries.Count;

    public Expectation? Find(string path) => _entries.GetValueOrDefault(path);

    /// <summary>An IGNORE entry names this path itself (and so everything below it, which the walk never enters).</summary>
    public bool IsIgnored(string path) => _ignored.Contains(path);

    public IEnumerable<Expectation> Unseen() => _entries.Values.Where(e => !e.Seen);

    public IEnumerable<Expectation> All() => _entries.Values;

    /// <summary>Adds one Manifest's lines; MANIFEST entries go to <paramref name="subManifests"/> to be loaded next.</summary>
    public void Add(IEnumerable<string> lines, string directory, string declaredIn, ConcurrentBag<TreeProblem> problems,
        List<ManifestEntry> subManifests)
    {
        foreach (var line in lines)
        {
            var entry = ManifestEntry.Parse(line.TrimEnd('\r'), directory, out var error);
            if (entry is null)
            {
                if (error is not null)
                {
                    problems.Add(new TreeProblem(declaredIn, TreeProblemKind.MalformedManifest, error));
                }

                continue;
            }

            switch (entry.Tag)
            {
                case ManifestTag.Timestamp:
                    // Only the signed top-level Manifest's TIMESTAMP is the tree's version; it is read there.
                    continue;
                case ManifestTag.Ignore:
                    _ignored.Add(entry.Path);
                    continue;
                case ManifestTag.Dist:
                    continue;
            }

            if (entry.Sha512 is null)
            {
                problems.Add(new TreeProblem(entry.Path, TreeProblemKind.UnsupportedHash, $"entry in {declaredIn} has no SHA512"));
            }

            if (_entries.TryGetValue(entry.Path, out var existing))
            {
                var same = existing.Entry.Size == entry.Size && existing.Entry.Tag == entry.Tag
                    && existing.Entry.Sha512 is { } a && entry.Sha512 is { } b && a.AsSpan().SequenceEqual(b);
                if (!same)
                {
                    problems.Add(new TreeProblem(entry.Path, TreeProblemKind.Conflict, $"{declaredIn} and {existing.DeclaredIn} disagree"));
                }

                continue;
            }

            _entries.Add(entry.Path, new Expectation(entry, declaredIn));
            if (entry.Tag == ManifestTag.Manifest)
            {
                subManifests.Add(entry);
            }
        }
    }
}
