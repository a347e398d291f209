using System.Collections.Concurrent;

namespace AdHocMirror.Tree.Manifests;

/// <summary>A file some Manifest lists, and whether the walk found it.</summary>
internal sealed class Expectation(ManifestEntry entry, string declaredIn, string line)
{
    public ManifestEntry Entry { get; } = entry;

    /// <summary>The Manifest line, as written (without a trailing CR): equal lines in one Manifest path are equal entries.</summary>
    public string Line { get; } = line;

    public string DeclaredIn { get; } = declaredIn;

    public string Path => Entry.Path;

    public bool Seen { get; set; }
}

/// <summary>Every entry of a Manifest tree by path, plus the IGNOREd paths.</summary>
internal sealed class ManifestSet
{
    private readonly Dictionary<string, Expectation> _entries = new(StringComparer.Ordinal);
    private readonly IgnoredPaths _ignored = new();

    public int Count => _entries.Count;

    public Expectation? Find(string path) => _entries.GetValueOrDefault(path);

    /// <summary>An IGNORE entry names this path itself (and so everything below it, which the walk never enters).</summary>
    public bool IsIgnored(string path) => _ignored.Contains(path);

    /// <summary>The IGNOREd paths (relative to the root).</summary>
    public IReadOnlyCollection<string> Ignored => _ignored.Paths;

    /// <summary>Whether an IGNORE names <paramref name="directory"/>, a directory above it, or a path below it.</summary>
    public bool IgnoreTouches(string directory) => _ignored.Touches(directory);

    public IEnumerable<Expectation> Unseen() => _entries.Values.Where(e => !e.Seen);

    public IEnumerable<Expectation> All() => _entries.Values;

    /// <summary>One parsed line: the entry (null for blank or malformed lines), the text, and the error if malformed.</summary>
    internal readonly record struct ParsedLine(ManifestEntry? Entry, string Text, string? Error);

    /// <summary>Parses one Manifest's lines (pure: safe on any thread); <see cref="AddParsed"/> then adds them.</summary>
    public static ParsedLine[] Parse(IReadOnlyList<string> lines, string directory)
    {
        var parsed = new ParsedLine[lines.Count];
        for (var i = 0; i < parsed.Length; i++)
        {
            var text = lines[i].TrimEnd('\r');
            parsed[i] = new ParsedLine(ManifestEntry.Parse(text, directory, out var error), text, error);
        }

        return parsed;
    }

    /// <summary>Adds one Manifest's lines; MANIFEST entries go to <paramref name="subManifests"/> to be loaded next.</summary>
    public void Add(IReadOnlyList<string> lines, string directory, string declaredIn, ConcurrentBag<TreeProblem> problems,
        List<ManifestEntry> subManifests) => AddParsed(Parse(lines, directory), declaredIn, problems, subManifests);

    /// <summary>Adds one parsed Manifest; MANIFEST entries go to <paramref name="subManifests"/> to be loaded next.</summary>
    public void AddParsed(ParsedLine[] lines, string declaredIn, ConcurrentBag<TreeProblem> problems, List<ManifestEntry> subManifests)
    {
        foreach (var (entry, text, error) in lines)
        {
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

            _entries.Add(entry.Path, new Expectation(entry, declaredIn, text));
            if (entry.Tag == ManifestTag.Manifest)
            {
                subManifests.Add(entry);
            }
        }
    }
}
