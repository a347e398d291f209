namespace AdHocMirror.Tree.Rsync;

/// <summary>
/// The rsync options portage uses for a repository sync (PORTAGE_RSYNC_OPTS), so that our syncs behave like
/// <c>emerge --sync</c>, plus the staging form with <c>--link-dest</c> as portage's sync quarantine does.
/// </summary>
public static class PortageRsync
{
    public static IReadOnlyList<string> Options { get; } =
    [
        "--recursive", "--links", "--safe-links", "--perms", "--times", "--omit-dir-times", "--compress", "--force",
        "--whole-file", "--delete", "--stats", "--human-readable", "--timeout=180",
        "--exclude=/distfiles", "--exclude=/local", "--exclude=/packages", "--exclude=/.git",
    ];

    /// <summary>Arguments to sync <paramref name="source"/> (an rsync URI or path) into <paramref name="destination"/>, hard-linking unchanged files from <paramref name="linkDest"/>.</summary>
    public static IReadOnlyList<string> Arguments(string source, string destination, string? linkDest)
    {
        var arguments = new List<string>(Options);
        if (linkDest is not null)
        {
            arguments.Add("--link-dest=" + Path.GetFullPath(linkDest));
        }

        arguments.Add(source.EndsWith('/') ? source : source + "/");
        arguments.Add(destination.EndsWith('/') ? destination : destination + "/");
        return arguments;
    }
}
