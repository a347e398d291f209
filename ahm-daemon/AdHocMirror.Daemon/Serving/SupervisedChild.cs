using System.Diagnostics;
using AdHocMirror.Daemon.Session;
using AdHocMirror.Tree.Processes;
using Microsoft.Extensions.Logging;

namespace AdHocMirror.Daemon.Serving;

/// <summary>
/// Runs one stock server (rsync --daemon --no-detach, git daemon) in the foreground, relays its log lines, and restarts
/// it with exponential backoff when it dies. Stopping sends SIGTERM to it and its connection children, then kills
/// whatever is left after a grace period. The server dies with the daemon even when the daemon is killed with SIGKILL
/// (<see cref="ChildStarter"/>), and is recorded in the daemon's <see cref="ChildLedger"/> for the next start.
/// </summary>
public sealed partial class SupervisedChild(
    string name, Func<ProcessStartInfo> describe, Backoff backoff, TimeProvider clock, ILogger logger, ChildLedger? ledger = null) : IAsyncDisposable
{
    private static readonly TimeSpan StableAfter = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(5);
    private readonly CancellationTokenSource _stopping = new();
    private Task? _loop;
    private Process? _process;
    private bool _disposed;

    public string Name { get; } = name;

    /// <summary>The running server's pid, or null between restarts.</summary>
    public int? Pid
    {
        get
        {
            try
            {
                return _process is { HasExited: false } p ? p.Id : null;
            }
            catch (InvalidOperationException)
            {
                return null;
            }
        }
    }

    public int Starts { get; private set; }

    public void Start() => _loop ??= Task.Run(() => SuperviseAsync(_stopping.Token));

    private async Task SuperviseAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            var started = clock.GetUtcNow();
            int exitCode;
            try
            {
                using var process = new Process { StartInfo = describe() };
                process.OutputDataReceived += (_, e) => Relay(e.Data);
                process.ErrorDataReceived += (_, e) => Relay(e.Data);
                using var recorded = ChildStarter.Start(process, ledger);
                _process = process;
                Starts++;
                process.BeginOutputReadLine();
                process.BeginErrorReadLine();
                Log.Started(logger, Name, process.Id);
                try
                {
                    await process.WaitForExitAsync(stopping);
                }
                catch (OperationCanceledException)
                {
                    await TerminateAsync(process);
                    return;
                }

                exitCode = process.ExitCode;
            }
            catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException or IOException)
            {
                Log.CannotStart(logger, Name, e.Message);
                exitCode = -1;
            }
            finally
            {
                _process = null;
            }

            if (clock.GetUtcNow() - started > StableAfter)
            {
                backoff.Reset();
            }

            var delay = backoff.Next();
            Log.Died(logger, Name, exitCode, delay);
            try
            {
                await Task.Delay(delay, clock, stopping);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private void Relay(string? line)
    {
        if (!string.IsNullOrWhiteSpace(line))
        {
            Log.Output(logger, Name, Redact(line));
        }
    }

    /// <summary>Client addresses are never logged in full (DESIGN.md "Anonymous and private"): the host part is cut.</summary>
    internal static string Redact(string line)
    {
        line = IPv4().Replace(line, m => m.Groups[1].Value + ".x");
        return IPv6().Replace(line, m => m.Groups[1].Value + "::x");
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"\b(\d{1,3}\.\d{1,3}\.\d{1,3})\.\d{1,3}\b")]
    private static partial System.Text.RegularExpressions.Regex IPv4();

    [System.Text.RegularExpressions.GeneratedRegex(@"\b([0-9a-fA-F]{1,4}:[0-9a-fA-F]{1,4}:[0-9a-fA-F]{1,4})(?::[0-9a-fA-F]{0,4}){2,5}\b")]
    private static partial System.Text.RegularExpressions.Regex IPv6();

    private async Task TerminateAsync(Process process)
    {
        try
        {
            if (process.HasExited)
            {
                // Already reaped: its pid may belong to another process by now, which must not get our signal.
                Log.Stopped(logger, Name);
                return;
            }

            var children = new List<int>();
            foreach (var directory in Directory.EnumerateDirectories("/proc"))
            {
                if (int.TryParse(Path.GetFileName(directory), out var pid) && ActiveConnections.ParentOf(directory) == process.Id)
                {
                    children.Add(pid);
                }
            }

            _ = Native.Kill(process.Id, Native.SIGTERM);
            foreach (var child in children)
            {
                _ = Native.Kill(child, Native.SIGTERM);
            }

            using var grace = new CancellationTokenSource(StopGrace);
            await process.WaitForExitAsync(grace.Token);
            Log.Stopped(logger, Name);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Log.Killed(logger, Name);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    public async Task StopAsync()
    {
        if (_disposed)
        {
            return;
        }

        await _stopping.CancelAsync();
        if (_loop is not null)
        {
            await _loop;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        await StopAsync();
        _disposed = true;
        _stopping.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "{Name} started (pid {Pid})")]
        public static partial void Started(ILogger logger, string name, int pid);

        [LoggerMessage(2, LogLevel.Warning, "{Name} exited with code {ExitCode}; restarting in {Delay}")]
        public static partial void Died(ILogger logger, string name, int exitCode, TimeSpan delay);

        [LoggerMessage(3, LogLevel.Error, "{Name} cannot be started: {Detail}")]
        public static partial void CannotStart(ILogger logger, string name, string detail);

        [LoggerMessage(4, LogLevel.Information, "{Name}: {Line}")]
        public static partial void Output(ILogger logger, string name, string line);

        [LoggerMessage(5, LogLevel.Information, "{Name} stopped")]
        public static partial void Stopped(ILogger logger, string name);

        [LoggerMessage(6, LogLevel.Warning, "{Name} did not stop in time; killed")]
        public static partial void Killed(ILogger logger, string name);
    }
}
