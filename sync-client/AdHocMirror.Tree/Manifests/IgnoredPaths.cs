namespace AdHocMirror.Tree.Manifests;

/// <summary>
/// IGNOREd paths (relative to the root), and the question the skip-unchanged rule asks of them for every directory
/// and file it would skip: does an IGNORE name this path, a directory above it, or a path below it? Answered with at
/// most one lookup per level of the path instead of a comparison with every IGNORE (a full tree asks 24,000 times).
/// </summary>
internal sealed class IgnoredPaths
{
    private readonly HashSet<string> _paths = new(StringComparer.Ordinal);

    // Every directory above an IGNOREd path: those are the paths an IGNORE lies below.
    private readonly HashSet<string> _above = new(StringComparer.Ordinal);

    public int Count => _paths.Count;

    public IReadOnlyCollection<string> Paths => _paths;

    public void Add(string path)
    {
        if (!_paths.Add(path))
        {
            return;
        }

        for (var slash = path.LastIndexOf('/'); slash > 0; slash = path.LastIndexOf('/', slash - 1))
        {
            if (!_above.Add(path[..slash]))
            {
                break; // Its own parents were added with it.
            }
        }
    }

    public bool Contains(string path) => _paths.Contains(path);

    /// <summary>Whether an IGNORE is <paramref name="path"/>, above it, or below it.</summary>
    public bool Touches(string path)
    {
        if (_paths.Count == 0)
        {
            return false;
        }

        if (_paths.Contains(path) || _above.Contains(path))
        {
            return true;
        }

        var span = path.AsSpan();
        var lookup = _paths.GetAlternateLookup<ReadOnlySpan<char>>();
        for (var slash = span.LastIndexOf('/'); slash > 0; slash = span[..slash].LastIndexOf('/'))
        {
            if (lookup.Contains(span[..slash]))
            {
                return true;
            }
        }

        return false;
    }
}
