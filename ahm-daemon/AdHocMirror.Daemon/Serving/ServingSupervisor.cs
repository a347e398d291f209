using System.Diagnostics;
using System.Globalization;
using AdHocMirror.Daemon.Configuration;
using AdHocMirror.Daemon.Session;
using AdHocMirror.Tree.Processes;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AdHocMirror.Daemon.Serving;

/// <summary>
/// Serves the published snapshots with the stock servers: <c>rsync --daemon --no-detach</c> on the generated
/// rsyncd.conf and <c>git daemon</c> on the served repository, each supervised and restarted when it dies.
/// </summary>
public sealed partial class ServingSupervisor(DaemonOptions options, TimeProvider clock, ILoggerFactory loggers, ChildLedger? ledger = null) : IHostedService, IAsyncDisposable
{
    private readonly Lock _gate = new();
    private readonly ILogger _logger = loggers.CreateLogger<ServingSupervisor>();
    private SupervisedChild? _rsync;
    private SupervisedChild? _git;

    public SupervisedChild? Rsync => _rsync;

    public SupervisedChild? Git => _git;

    public string RsyncConfigPath => Path.Combine(options.StateDir, "rsyncd.conf");

    /// <summary>Starts the rsync daemon on <paramref name="modulePath"/> (the current-snapshot link) unless it runs.</summary>
    public void StartRsync(string modulePath)
    {
        lock (_gate)
        {
            if (_rsync is not null)
            {
                return;
            }

            File.WriteAllText(RsyncConfigPath, RsyncdConfig.Render(options, modulePath, Native.IsRoot));
            var arguments = new List<string>
            {
                "--daemon", "--no-detach", "--config=" + RsyncConfigPath, "--log-file=/dev/stderr",
                "--address=" + options.ListenAddress, "--port=" + options.RsyncPort.ToString(CultureInfo.InvariantCulture),
            };
            if (options.BandwidthKibps > 0)
            {
                // In daemon mode --bwlimit caps every transfer the daemon sends; clients may only ask for less.
                arguments.Add("--bwlimit=" + options.BandwidthKibps.ToString(CultureInfo.InvariantCulture));
            }

            _rsync = new SupervisedChild("rsyncd", () => Describe(options.RsyncProgram, arguments, options.StateDir), NewBackoff(), clock, _logger, ledger);
            _rsync.Start();
        }
    }

    /// <summary>Starts git daemon exporting the repositories under <paramref name="basePath"/> unless it runs.</summary>
    public void StartGit(string basePath)
    {
        lock (_gate)
        {
            if (_git is not null)
            {
                return;
            }

            // git-daemon itself, not the "git daemon" wrapper: its pid must be the one whose children are the
            // connections, and a wrapper killed alone would leave the real server holding the port.
            var program = Path.Combine(ExecPath(), "git-daemon");
            List<string> arguments =
            [
                "--reuseaddr", "--listen=" + options.ListenAddress, "--port=" + options.GitPort.ToString(CultureInfo.InvariantCulture),
                "--base-path=" + basePath, "--max-connections=" + options.MaxClients.ToString(CultureInfo.InvariantCulture),
                "--timeout=180", "--init-timeout=30", "--log-destination=stderr",
                // Only repositories marked git-daemon-export-ok under the base path; no receive-pack, no archives.
                "--forbid-override=receive-pack", "--forbid-override=upload-archive", basePath,
            ];
            _git = new SupervisedChild("git-daemon", () => Describe(program, arguments, basePath), NewBackoff(), clock, _logger, ledger);
            _git.Start();
        }
    }

    /// <summary>Clients being served now: the connection children of both daemons.</summary>
    public int ActiveConnections()
    {
        var parents = new List<int>(2);
        if (_rsync?.Pid is { } rsync)
        {
            parents.Add(rsync);
        }

        if (_git?.Pid is { } git)
        {
            parents.Add(git);
        }

        return Serving.ActiveConnections.CountChildren(parents);
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Stops both servers (the host stops this last, after the logout).</summary>
    public Task StopAsync(CancellationToken cancellationToken) => StopAsync();

    public async Task StopAsync()
    {
        var children = new[] { _rsync, _git }.OfType<SupervisedChild>().ToList();
        await Task.WhenAll(children.Select(c => c.StopAsync()));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var child in new[] { _rsync, _git }.OfType<SupervisedChild>())
        {
            await child.DisposeAsync();
        }
    }

    private string ExecPath()
    {
        var start = new ProcessStartInfo(options.GitProgram, ["--exec-path"]) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start) ?? throw new IOException($"cannot run {options.GitProgram}");
        var path = process.StandardOutput.ReadToEnd().Trim();
        process.WaitForExit();
        return process.ExitCode == 0 && Directory.Exists(path) ? path : throw new IOException($"{options.GitProgram} --exec-path failed");
    }

    private Backoff NewBackoff() => new(TimeSpan.FromMilliseconds(500), TimeSpan.FromMinutes(1));

    private ProcessStartInfo Describe(string program, IEnumerable<string> arguments, string workingDirectory)
    {
        var start = new ProcessStartInfo(program)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            WorkingDirectory = workingDirectory,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["GIT_CONFIG_NOSYSTEM"] = "1";
        start.Environment["GIT_CONFIG_GLOBAL"] = "/dev/null";
        start.Environment["HOME"] = options.StateDir;
        start.Environment["LC_ALL"] = "C";
        return start;
    }
}
