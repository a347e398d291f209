using System.Diagnostics;
using System.Globalization;

namespace AdHocMirror.Testing;

/// <summary>
/// What /proc says about running processes: the children and descendants of a process (to find the rsync a daemon or
/// ahm-sync started, before it is hard-killed and the child is re-parented), and every process whose command line
/// names a directory (leftovers).
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public static class ProcessTable
{
    /// <param name="Name">The kernel's short name of the program (<c>/proc/PID/comm</c>), e.g. <c>rsync</c>, <c>git-daemon</c>.</param>
    public sealed record Entry(int Pid, int ParentPid, string Name, string CommandLine);

    public static IReadOnlyList<Entry> Snapshot()
    {
        var entries = new List<Entry>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            try
            {
                // "pid (comm) state ppid …": comm may hold spaces and parentheses, so parse after the last ')'.
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                var name = stat[(stat.IndexOf('(') + 1)..stat.LastIndexOf(')')];
                var commandLine = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ').Trim();
                entries.Add(new Entry(pid, int.Parse(fields[1], CultureInfo.InvariantCulture), name, commandLine));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or ArgumentOutOfRangeException)
            {
                // Gone while we looked.
            }
        }

        return entries;
    }

    public static IReadOnlyList<Entry> ChildrenOf(int pid) => Snapshot().Where(e => e.ParentPid == pid).ToList();

    public static IReadOnlyList<Entry> DescendantsOf(int pid)
    {
        var all = Snapshot();
        var found = new List<Entry>();
        var parents = new HashSet<int> { pid };
        bool added;
        do
        {
            added = false;
            foreach (var entry in all)
            {
                if (parents.Contains(entry.ParentPid) && parents.Add(entry.Pid))
                {
                    found.Add(entry);
                    added = true;
                }
            }
        }
        while (added);

        return found;
    }

    /// <summary>Processes (other than this one) whose command line mentions <paramref name="text"/>, e.g. a swarm's work directory.</summary>
    public static IReadOnlyList<Entry> Mentioning(string text)
    {
        var self = Environment.ProcessId;
        return Snapshot().Where(e => e.Pid != self && e.CommandLine.Contains(text, StringComparison.Ordinal)).ToList();
    }

    public static bool IsRunning(int pid)
    {
        try
        {
            // A zombie (state Z) has finished; it only waits for its parent to reap it.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[stat.LastIndexOf(')') + 2] != 'Z';
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>The kernel's short name of the program, or empty when it is gone.</summary>
    public static string NameOf(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/comm").Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return string.Empty;
        }
    }

    /// <summary>For failure messages: "pid name" of each, marking those that have ended.</summary>
    public static string Describe(IEnumerable<int> pids) =>
        string.Join(", ", pids.Select(p => $"{p} {NameOf(p)}{(IsRunning(p) ? string.Empty : " (gone)")}"));

    /// <summary>SIGKILL, ignoring a process that is already gone.</summary>
    public static void Kill(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            process.Kill();
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
        }
    }
}
