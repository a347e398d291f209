using System.Diagnostics;

namespace AdHocMirror.Swarm;

/// <summary>One of the swarm's programs, its output kept in a log file, stopped by SIGTERM.</summary>
public sealed class LocalProcess : IAsyncDisposable
{
    private readonly Process _process;

    private LocalProcess(string name, Process process, string log)
    {
        Name = name;
        _process = process;
        Log = log;
    }

    public string Name { get; }

    public string Log { get; }

    public bool HasExited => _process.HasExited;

    /// <summary>The process id, e.g. to find the children it started (in /proc) before a hard kill.</summary>
    public int Id => _process.Id;

    public static LocalProcess Start(string name, string fileName, IEnumerable<string> arguments, string logDirectory)
    {
        var log = Path.Combine(logDirectory, name + ".log");
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {name}");
        var writer = new StreamWriter(log) { AutoFlush = true };
        var gate = new Lock();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (gate) { writer.WriteLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (gate) { writer.WriteLine(e.Data); } } };
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) => { lock (gate) { writer.Flush(); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new LocalProcess(name, process, log);
    }

    /// <summary>SIGTERM, then wait for a clean exit; SIGKILL only if it hangs.</summary>
    public async Task<int> StopAsync(TimeSpan? grace = null)
    {
        if (!_process.HasExited)
        {
            Signal.Terminate(_process.Id);
            using var cts = new CancellationTokenSource(grace ?? TimeSpan.FromSeconds(20));
            try
            {
                await _process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }

        return _process.ExitCode;
    }

    /// <summary>SIGKILL to this process alone, as a crash or power loss ends it: no shutdown code runs, children are not told.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: false);
        }

        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _process.Dispose();
    }
}

internal static partial class Signal
{
    public static void Terminate(int pid) => _ = Kill(pid, 15);

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
