namespace AdHocMirror.Tree.Snapshots;

/// <summary>
/// Whether any process works inside a directory: rsync and git daemons chdir into the module or repository they
/// serve, so /proc/PID/cwd (and /proc/PID/root) of a running transfer points into its snapshot. Only processes of the
/// same user are visible, which is exactly the daemon's own children.
/// </summary>
internal static class ProcessDirectories
{
    public static bool AnyInside(string directory)
    {
        var prefix = Path.GetFullPath(directory).TrimEnd('/') + "/";
        if (!Directory.Exists("/proc"))
        {
            return false;
        }

        foreach (var process in Directory.EnumerateDirectories("/proc"))
        {
            var name = Path.GetFileName(process);
            if (name.Length == 0 || !char.IsAsciiDigit(name[0]))
            {
                continue;
            }

            foreach (var link in (ReadOnlySpan<string>)["cwd", "root"])
            {
                try
                {
                    var target = new FileInfo(Path.Combine(process, link)).LinkTarget;
                    if (target is not null && (target + "/").StartsWith(prefix, StringComparison.Ordinal))
                    {
                        return true;
                    }
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // Gone, or another user's process: not one of ours.
                }
            }
        }

        return false;
    }
}
