using AdHocMirror.Tree.Native;

namespace AdHocMirror.Tree.Manifests;

/// <summary>
/// Symlinks met by the walk, judged as gemato treats them (a directory symlink is walked as if it were the directory,
/// every file checked under each path that reaches it; a file symlink is checked by its target's bytes) but stricter:
/// a link must be relative and resolve inside the tree (gemato follows a link out of the tree and fails only when the
/// Manifests then disagree), and any loop, however long the chain, is refused as a problem instead of a crash.
/// </summary>
internal sealed class TreeLinks
{
    private readonly string _root;

    public TreeLinks(string root)
    {
        _root = RealPath.TryResolve(root, out _, out _) ?? root;
        Root = new Place(_root, null);
    }

    /// <summary>Where a directory of the walk really is, and the real directories walked through to reach it.</summary>
    internal sealed record Place(string Real, Place? Parent)
    {
        public bool OnWalkTo(string real)
        {
            for (var place = this; place is not null; place = place.Parent)
            {
                if (place.Real == real)
                {
                    return true;
                }
            }

            return false;
        }
    }

    /// <summary>What a symlink is once judged: a directory to walk, a file to hash, or refused.</summary>
    internal enum Verdict
    {
        Directory,
        File,
        Refused,
    }

    /// <summary>The tree's root, resolved.</summary>
    public Place Root { get; }

    /// <summary>
    /// The place of a real (not symlinked) subdirectory <paramref name="name"/>; null when the walk already passed through
    /// that very directory on its way here (only links can bring it back, but the guard does not rely on that).
    /// </summary>
    public static Place? Child(Place parent, string name)
    {
        var real = parent.Real + "/" + name;
        return parent.OnWalkTo(real) ? null : new Place(real, parent);
    }

    /// <summary>Judges the symlink at <paramref name="path"/> (relative) in the walked directory <paramref name="parent"/>.</summary>
    public Verdict Judge(string full, string path, Place parent, out Place? directory, out TreeProblem? problem)
    {
        directory = null;
        problem = null;
        string? text;
        try
        {
            text = new FileInfo(full).LinkTarget;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problem = new TreeProblem(path, TreeProblemKind.Unreadable, e.Message);
            return Verdict.Refused;
        }

        if (text is null)
        {
            problem = new TreeProblem(path, TreeProblemKind.Unreadable, "was a symlink, is no longer one");
            return Verdict.Refused;
        }

        if (text.StartsWith('/'))
        {
            return Refuse(path, $"absolute symlink to {Quote(text)}: only relative links that stay inside the tree are followed", out problem);
        }

        if (LeavesLexically(parent.Real, text))
        {
            return Refuse(path, $"symlink to {Quote(text)} leads out of the tree", out problem);
        }

        var real = RealPath.TryResolve(full, out var failure, out var error);
        if (real is null)
        {
            return Refuse(path, failure switch
            {
                RealPath.Failure.Loop => $"symlink loop ({error})",
                RealPath.Failure.Dangling => $"dangling symlink to {Quote(text)}: its target does not exist",
                _ => $"cannot resolve the symlink: {error}",
            }, out problem);
        }

        if (!real.StartsWith(_root + "/", StringComparison.Ordinal))
        {
            return real == _root
                ? Refuse(path, "symlink to the tree's root: a loop", out problem)
                : Refuse(path, $"symlink to {Quote(text)} resolves outside the tree", out problem);
        }

        if (!Directory.Exists(real))
        {
            return Verdict.File; // Opened through the link, so its target's bytes are hashed (a FIFO or device is refused then).
        }

        if (parent.Real == real || parent.Real.StartsWith(real + "/", StringComparison.Ordinal))
        {
            return Refuse(path, "symlink to one of its parent directories: a loop", out problem);
        }

        if (parent.OnWalkTo(real))
        {
            return Refuse(path, $"symlink loop: leads back to {Quote(real[(_root.Length + 1)..])}, which this path already passed through", out problem);
        }

        directory = new Place(real, parent);
        return Verdict.Directory;
    }

    /// <summary>Whether the link text, read from <paramref name="from"/> (inside the root) name by name, climbs above the root.</summary>
    private bool LeavesLexically(string from, string text)
    {
        var depth = from.Length == _root.Length ? 0 : from[(_root.Length + 1)..].Split('/').Length;
        foreach (var part in text.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            depth += part switch { ".." => -1, "." => 0, _ => 1 };
            if (depth < 0)
            {
                return true;
            }
        }

        return false;
    }

    private static Verdict Refuse(string path, string detail, out TreeProblem problem)
    {
        problem = new TreeProblem(path, TreeProblemKind.Symlink, detail);
        return Verdict.Refused;
    }

    /// <summary>A link's text as read from an untrusted tree: bounded, and without control characters, before it reaches a log.</summary>
    private static string Quote(string text)
    {
        var shown = text.Length > 80 ? text[..80] + "…" : text;
        return "\"" + string.Concat(shown.Select(c => char.IsControl(c) ? '?' : c)) + "\"";
    }
}
