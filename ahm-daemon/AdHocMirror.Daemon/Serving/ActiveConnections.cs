using System.Globalization;

namespace AdHocMirror.Daemon.Serving;

/// <summary>
/// Clients being served = the children of the rsync and git daemons (both fork one process per connection), found in
/// /proc by their parent pid.
/// </summary>
public static class ActiveConnections
{
    public static int CountChildren(IReadOnlyCollection<int> parents)
    {
        ArgumentNullException.ThrowIfNull(parents);
        if (parents.Count == 0 || !Directory.Exists("/proc"))
        {
            return 0;
        }

        var count = 0;
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            var name = Path.GetFileName(directory);
            if (name.Length == 0 || !char.IsAsciiDigit(name[0]))
            {
                continue;
            }

            if (ParentOf(directory) is { } parent && parents.Contains(parent))
            {
                count++;
            }
        }

        return count;
    }

    /// <summary>The ppid field of /proc/PID/stat; the command name before it may hold spaces or parentheses.</summary>
    internal static int? ParentOf(string procDirectory)
    {
        string stat;
        try
        {
            stat = File.ReadAllText(Path.Combine(procDirectory, "stat"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        var close = stat.LastIndexOf(')');
        if (close < 0)
        {
            return null;
        }

        var fields = stat[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return fields.Length > 1 && int.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var ppid) ? ppid : null;
    }
}
