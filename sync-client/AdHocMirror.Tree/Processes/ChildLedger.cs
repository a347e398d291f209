using System.Globalization;
using System.Runtime.InteropServices;

namespace AdHocMirror.Tree.Processes;

/// <summary>
/// A pidfile of the child processes a program runs (rsync, git, gpg, the stock servers), so that the next start of the
/// program ends children a hard-killed predecessor left running. The parent-death signal (<see cref="ChildStarter"/>)
/// covers most of that at once; the ledger covers the rest: a kernel without it, setpriv missing, the instant between
/// fork and prctl, and children of children.
/// </summary>
/// <remarks>
/// Format, one record per line: <c>owner PID STARTTICKS BOOTID</c>, then <c>child PID STARTTICKS PROGRAM</c>. A pid
/// alone is not an identity (pids are reused), so a leftover is killed only when the process with that pid has the
/// recorded start time (field 22 of <c>/proc/PID/stat</c>) in the same boot, and its <c>/proc/PID/cmdline</c> names the
/// recorded program. The leftovers of an owner that is still alive are never touched (two instances on one ledger).
/// Open a ledger only where no other live instance may own it (ahm-sync holds the repository's sync lock).
/// </remarks>
public sealed class ChildLedger : IDisposable
{
    private static readonly AsyncLocal<ChildLedger?> s_current = new();
    private readonly Lock _gate = new();
    private readonly Dictionary<int, (long Start, string Program)> _children = [];
    private readonly string _owner;
    private bool _disposed;

    private ChildLedger(string path, IReadOnlyList<int> ended)
    {
        Path = path;
        Ended = ended;
        _owner = FormattableString.Invariant($"owner {Environment.ProcessId} {StartTicks(Environment.ProcessId)} {BootId()}");
        Write();
    }

    /// <summary>The ledger children started in this asynchronous flow are recorded in, when no ledger is passed explicitly.</summary>
    public static ChildLedger? Current
    {
        get => s_current.Value;
        set => s_current.Value = value;
    }

    public string Path { get; }

    /// <summary>Pids of leftovers (and their children) that <see cref="Open"/> ended.</summary>
    public IReadOnlyList<int> Ended { get; }

    /// <summary>Ends the children a dead previous owner of <paramref name="path"/> left running, and takes the ledger over.</summary>
    public static ChildLedger Open(string path)
    {
        path = System.IO.Path.GetFullPath(path);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        var ended = OperatingSystem.IsLinux() ? EndLeftovers(path) : [];
        return new ChildLedger(path, ended);
    }

    /// <summary>Records a started child; disposing the returned entry forgets it (call that once it has exited).</summary>
    public IDisposable Add(int pid, string program)
    {
        lock (_gate)
        {
            if (!_disposed)
            {
                _children[pid] = (StartTicks(pid), System.IO.Path.GetFileName(program));
                Write();
            }
        }

        return new Entry(this, pid);
    }

    private void Forget(int pid)
    {
        lock (_gate)
        {
            if (!_disposed && _children.Remove(pid))
            {
                Write();
            }
        }
    }

    private void Write()
    {
        var lines = new List<string> { _owner };
        lines.AddRange(_children.Select(c => FormattableString.Invariant($"child {c.Key} {c.Value.Start} {c.Value.Program}")));
        var temporary = Path + ".new";
        try
        {
            File.WriteAllLines(temporary, lines);
            File.Move(temporary, Path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The parent-death signal still applies; a ledger that cannot be written only loses the second line of defence.
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            if (_children.Count == 0)
            {
                try
                {
                    File.Delete(Path);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                }
            }
        }
    }

    private static List<int> EndLeftovers(string path)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }

        var owner = lines.FirstOrDefault()?.Split(' ');
        if (owner is not ["owner", var ownerPid, var ownerStart, var boot] || boot != BootId())
        {
            return []; // Unreadable, or written before a reboot: none of its processes can still run.
        }

        if (int.TryParse(ownerPid, CultureInfo.InvariantCulture, out var ownerId) && ownerId != Environment.ProcessId
            && StartTicks(ownerId).ToString(CultureInfo.InvariantCulture) == ownerStart)
        {
            return []; // Its owner still runs: its children are not leftovers.
        }

        var ended = new List<int>();
        foreach (var line in lines.Skip(1))
        {
            if (line.Split(' ') is ["child", var pidText, var startText, var program]
                && int.TryParse(pidText, CultureInfo.InvariantCulture, out var pid) && pid != Environment.ProcessId
                && StartTicks(pid).ToString(CultureInfo.InvariantCulture) == startText && Runs(pid, program))
            {
                var descendants = DescendantsOf(pid);
                End(pid);
                ended.Add(pid);
                foreach (var descendant in descendants)
                {
                    End(descendant);
                    ended.Add(descendant);
                }
            }
        }

        // SIGKILL is asynchronous: wait (briefly) until they are gone, so that nothing they write races what comes next.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (ended.Any(Alive) && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(10);
        }

        return ended;
    }

    private static void End(int pid) => _ = Kill(pid, 9);

    private static bool Alive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)] != 'Z';
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Whether <c>/proc/PID/cmdline</c> names <paramref name="program"/> (as argv[0], or as the program setpriv is about to run).</summary>
    private static bool Runs(int pid, string program)
    {
        try
        {
            var argv = File.ReadAllText($"/proc/{pid}/cmdline").Split('\0', StringSplitOptions.RemoveEmptyEntries);
            return argv.Take(4).Any(a => System.IO.Path.GetFileName(a) == program);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Every descendant of <paramref name="root"/>, from the parent links in <c>/proc/*/stat</c>.</summary>
    internal static List<int> DescendantsOf(int root)
    {
        var parents = new Dictionary<int, List<int>>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(System.IO.Path.GetFileName(directory), CultureInfo.InvariantCulture, out var pid) && Stat(pid) is { } fields
                && int.TryParse(fields[1], CultureInfo.InvariantCulture, out var parent))
            {
                (parents.TryGetValue(parent, out var list) ? list : parents[parent] = []).Add(pid);
            }
        }

        var found = new List<int>();
        var pending = new Stack<int>([root]);
        while (pending.Count > 0)
        {
            foreach (var child in parents.GetValueOrDefault(pending.Pop()) ?? [])
            {
                found.Add(child);
                pending.Push(child);
            }
        }

        return found;
    }

    /// <summary>The fields of <c>/proc/PID/stat</c> after the command name (index 0 is the state), or null.</summary>
    private static string[]? Stat(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Start time in clock ticks since boot (field 22 of /proc/PID/stat), or -1 when the process is gone.</summary>
    internal static long StartTicks(int pid) =>
        Stat(pid) is { Length: > 19 } fields && long.TryParse(fields[19], CultureInfo.InvariantCulture, out var ticks) ? ticks : -1;

    private static string BootId()
    {
        try
        {
            return File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "unknown";
        }
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    private sealed class Entry(ChildLedger ledger, int pid) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                ledger.Forget(pid);
            }
        }
    }
}
