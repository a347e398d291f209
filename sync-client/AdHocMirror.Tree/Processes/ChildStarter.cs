using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace AdHocMirror.Tree.Processes;

/// <summary>
/// Starts child processes that must not outlive this one: on Linux each runs under <c>setpriv --pdeathsig TERM</c>
/// (util-linux), so the kernel signals it when this process dies, even by SIGKILL. TERM rather than KILL because rsync
/// forks helpers (its receiver; a daemon's connections) that only its own SIGTERM handler ends (rsync's exit cleanup
/// signals them); a child that ignores TERM is SIGKILLed by the next start through the ledger. The signal fires when the
/// <em>thread</em> that forked the child exits, and .NET forks on the calling thread (a pool thread may retire any
/// time), so every start happens on one dedicated thread that lives as long as the process. Each child is recorded in a
/// <see cref="ChildLedger"/> when one is given, for the cases the signal misses.
/// </summary>
public static class ChildStarter
{
    private static readonly BlockingCollection<Action> Starts = [];
    private static readonly Lazy<string?> SetPriv = new(FindSetPriv, LazyThreadSafetyMode.ExecutionAndPublication);

    static ChildStarter()
    {
        // Never ends: the parent-death signal of every child is tied to this thread's life.
        new Thread(() =>
        {
            foreach (var start in Starts.GetConsumingEnumerable())
            {
                start();
            }
        })
        { IsBackground = true, Name = "child starter" }.Start();
    }

    /// <summary>Whether children get the parent-death signal here (Linux with setpriv --pdeathsig).</summary>
    public static bool DiesWithParent => SetPriv.Value is not null;

    /// <summary>
    /// Starts <paramref name="process"/> (its StartInfo with ArgumentList) so that it dies with this process, and records it
    /// in <paramref name="ledger"/>. Dispose the returned entry once the process has exited. Throws what
    /// <see cref="Process.Start()"/> throws (e.g. a program that does not exist).
    /// </summary>
    public static IDisposable Start(Process process, ChildLedger? ledger)
    {
        ArgumentNullException.ThrowIfNull(process);
        var info = process.StartInfo;
        var program = info.FileName;
        if (SetPriv.Value is { } setpriv && string.IsNullOrEmpty(info.Arguments) && Resolve(program) is { } resolved)
        {
            info.FileName = setpriv;
            info.ArgumentList.Insert(0, "--pdeathsig");
            info.ArgumentList.Insert(1, "TERM");
            info.ArgumentList.Insert(2, "--");
            info.ArgumentList.Insert(3, resolved);
        }

        ExceptionDispatchInfo? failure = null;
        using (var done = new ManualResetEventSlim())
        {
            Starts.Add(() =>
            {
                try
                {
                    process.Start();
                }
                catch (Exception e)
                {
                    failure = ExceptionDispatchInfo.Capture(e);
                }
                finally
                {
                    done.Set();
                }
            });
            done.Wait();
        }

        failure?.Throw();
        return ledger?.Add(process.Id, program) ?? Nothing.Instance;
    }

    /// <summary>The full path of <paramref name="program"/> as exec would find it, or null (then it starts unwrapped, and fails as usual).</summary>
    private static string? Resolve(string program)
    {
        if (program.Contains('/', StringComparison.Ordinal))
        {
            return File.Exists(program) ? Path.GetFullPath(program) : null;
        }

        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(directory, program);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    private static string? FindSetPriv()
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("AHM_NO_PDEATHSIG") == "1" || Resolve("setpriv") is not { } setpriv)
        {
            return null;
        }

        // Older util-linux (< 2.33) has setpriv without --pdeathsig.
        try
        {
            using var probe = Process.Start(new ProcessStartInfo(setpriv, ["--pdeathsig", "TERM", "--", "true"])
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            })!;
            probe.StandardOutput.ReadToEnd();
            probe.StandardError.ReadToEnd();
            return probe.WaitForExit(5000) && probe.ExitCode == 0 ? setpriv : null;
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or IOException or InvalidOperationException)
        {
            return null;
        }
    }

    private sealed class Nothing : IDisposable
    {
        public static readonly Nothing Instance = new();

        public void Dispose()
        {
        }
    }
}
