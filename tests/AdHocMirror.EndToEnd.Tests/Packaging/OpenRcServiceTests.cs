using System.Diagnostics;
using AdHocMirror.Testing;
using AdHocMirror.Testing.Trees;

namespace AdHocMirror.EndToEnd.Tests.Packaging;

/// <summary>Runs only where Debian's openrc-run and supervise-daemon can work: as root, with OpenRC's files installed.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class OpenRcFactAttribute : FactAttribute
{
    public OpenRcFactAttribute()
    {
        if (!File.Exists(OpenRcService.OpenRcRun) || !File.Exists("/sbin/supervise-daemon"))
        {
            Skip = "Debian's openrc package (/sbin/openrc-run, /sbin/supervise-daemon) is not installed; InitScriptTests checks the scripts with openrc's helpers stubbed";
        }
        else if (Environment.UserName != "root")
        {
            Skip = "openrc-run must run as root (it writes /run/openrc, a pidfile in /run and switches to the service user); InitScriptTests checks the scripts with openrc's helpers stubbed";
        }
    }
}

/// <summary>
/// The real init scripts, started, supervised and stopped by Debian's openrc-run and supervise-daemon. Each runs as a
/// uniquely named copy in a temporary directory (openrc-run reads its conf.d from <c>../conf.d</c> beside it), whose
/// conf.d points the command at a harmless stand-in that records how it was started; nothing is installed in /etc.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class OpenRcServiceTests
{
    [OpenRcFact]
    public async Task Daemon_StartPre_StartAsUser_StatusDetail_Respawn_GracefulStop()
    {
        await using var service = await OpenRcService.CreateAsync("ahm-daemon", dir => $"""
            AHM_DAEMON_CONFIG="{dir}/daemon.conf"
            AHM_DAEMON_STATE_DIR="{dir}/state"
            AHM_DAEMON_TREE_DIR="{dir}/tree"
            AHM_DAEMON_LOG_DIR="{dir}/log"
            AHM_DAEMON_MAX_CLIENTS="4"
            AHM_DAEMON_UPSTREAM="rsync://127.0.0.1/gentoo-portage,{dir}/gentoo.git"
            AHM_DAEMON_RESPAWN_DELAY="1"
            AHM_DAEMON_STOP_SCHEDULE="TERM/10/KILL/5"
            """, prefix: "AHM_DAEMON");

        // No configuration file: start_pre refuses and nothing runs.
        var refused = await service.RunAsync("start");
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("daemon.conf is missing", refused.Stdout + refused.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(service.Record));
        // Debian's openrc 0.45 leaves a service whose start_pre failed as "starting" (not "stopped"); either way not started.
        Assert.NotEqual(0, (await service.RunAsync("status")).ExitCode);

        await File.WriteAllTextAsync(Path.Combine(service.Dir, "daemon.conf"), "public_host = 127.0.0.1\n");
        var started = await service.RunAsync("start");
        Assert.True(started.ExitCode == 0, $"start failed:\n{started.Stdout}{started.Stderr}");
        var first = await service.WaitForStartAsync(previousPid: null);
        Assert.Equal(service.User, first.User);
        Assert.Equal(
            ["run", "--config", $"{service.Dir}/daemon.conf", "--state-dir", $"{service.Dir}/state", "--tree-dir", $"{service.Dir}/tree",
             "--max-clients", "4", "--upstream", $"rsync://127.0.0.1/gentoo-portage,{service.Dir}/gentoo.git"],
            first.Arguments);

        // start_pre made the state directory private to the service user.
        Assert.Equal(service.User, await OpenRcService.OwnerAsync($"{service.Dir}/state"));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute, File.GetUnixFileMode($"{service.Dir}/state"));
        Assert.Equal(service.User, await OpenRcService.OwnerAsync($"{service.Dir}/log"));
        Assert.True(File.Exists($"/run/{service.Name}.pid"), "no pidfile");

        var status = await service.RunAsync("status");
        Assert.Equal(0, status.ExitCode);
        Assert.Contains("started", status.Stdout + status.Stderr, StringComparison.Ordinal);
        var detail = await service.RunAsync("status_detail");
        Assert.Equal(0, detail.ExitCode);
        Assert.Contains($"fake status: status --config {service.Dir}/daemon.conf --state-dir {service.Dir}/state", detail.Stdout, StringComparison.Ordinal);

        // supervise-daemon brings a daemon that died back.
        Process.GetProcessById(first.Pid).Kill();
        var second = await service.WaitForStartAsync(previousPid: first.Pid);
        Assert.Equal(first.Arguments, second.Arguments);

        var stopped = await service.RunAsync("stop");
        Assert.True(stopped.ExitCode == 0, $"stop failed:\n{stopped.Stdout}{stopped.Stderr}");
        await Eventually.TrueAsync(() => !Directory.Exists($"/proc/{second.Pid}"), "the daemon to exit after stop", TimeSpan.FromSeconds(20));
        Assert.Equal(3, (await service.RunAsync("status")).ExitCode);
        Assert.False(File.Exists($"/run/{service.Name}.pid"), "pidfile left behind");
    }

    /// <summary>The real ahm-daemon (this build's apphost) under openrc-run: as the service user, logging to the output log, its own status through status_detail, and a clean exit on stop's SIGTERM.</summary>
    [OpenRcFact]
    public async Task RealDaemon_RunsAsServiceUser_StatusDetailShowsItsView_StopsCleanly()
    {
        var daemon = Path.Combine(AppContext.BaseDirectory, "ahm-daemon");
        Assert.True(File.Exists(daemon), $"no ahm-daemon apphost beside the tests ({daemon})");
        await using var service = await OpenRcService.CreateAsync("ahm-daemon", dir => $"""
            AHM_DAEMON_BINARY="{daemon}"
            AHM_DAEMON_CONFIG="{dir}/daemon.conf"
            AHM_DAEMON_STATE_DIR="{dir}/state"
            AHM_DAEMON_TREE_DIR="{dir}/tree"
            AHM_DAEMON_LOG_DIR="{dir}/log"
            AHM_DAEMON_STOP_SCHEDULE="TERM/30/KILL/5"
            """, prefix: "AHM_DAEMON");

        // Nothing answers on the coordinator or upstream ports: the daemon keeps retrying, as it does when they are away.
        var key = await TestSigningKey.SharedAsync();
        var keyring = Path.Combine(service.Dir, "gentoo-release.asc");
        File.Copy(key.PublicKeyFile, keyring);
        File.SetUnixFileMode(keyring, (UnixFileMode)0b110_100_100);
        var config = Path.Combine(service.Dir, "daemon.conf");
        await File.WriteAllTextAsync(config, $"""
            coordinator = http://127.0.0.1:{FreePort.Next()}
            public_host = 127.0.0.1
            listen = 127.0.0.1
            ping_port = {FreePort.Next()}
            rsync_port = {FreePort.Next()}
            protocols = rsync
            upstream = rsync://127.0.0.1:{FreePort.Next()}/gentoo-portage
            keyring = {keyring}

            """);
        File.SetUnixFileMode(config, (UnixFileMode)0b110_100_100);

        var started = await service.RunAsync("start");
        Assert.True(started.ExitCode == 0, $"start failed:\n{started.Stdout}{started.Stderr}");

        ExternalProcess.Result detail = null!;
        await Eventually.TrueAsync(
            async () => (detail = await service.RunAsync("status_detail")).ExitCode == 0 && detail.Stdout.Contains("running (pid", StringComparison.Ordinal),
            "ahm-daemon status (through status_detail) to report the daemon running", TimeSpan.FromSeconds(60));
        var pid = int.Parse(System.Text.RegularExpressions.Regex.Match(detail.Stdout, @"running \(pid (\d+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(service.User, await OpenRcService.OwnerAsync($"/proc/{pid}"));
        Assert.Contains("upstream rsync://127.0.0.1:", detail.Stdout, StringComparison.Ordinal);

        // Its stderr goes to the service's log file.
        var log = Path.Combine(service.Dir, "log", service.Name + ".log");
        await Eventually.TrueAsync(() => File.Exists(log) && File.ReadAllText(log).Contains("ping listener listening", StringComparison.Ordinal), "the daemon's log in the output log", TimeSpan.FromSeconds(30));

        var stopped = await service.RunAsync("stop");
        Assert.True(stopped.ExitCode == 0, $"stop failed:\n{stopped.Stdout}{stopped.Stderr}");
        await Eventually.TrueAsync(() => !Directory.Exists($"/proc/{pid}"), "the daemon to exit after stop", TimeSpan.FromSeconds(40));

        // A clean exit on SIGTERM (not the KILL fallback) leaves "stopped" in its status file.
        var after = await ExternalProcess.RunAsync(daemon, ["status", "--json", "--config", config, "--state-dir", $"{service.Dir}/state", "--tree-dir", $"{service.Dir}/tree"]);
        Assert.Matches("(?i)\"session\"\\s*:\\s*\"stopped\"", after.Stdout);
    }

    [OpenRcFact]
    public async Task Coordinator_StartsAsItsUserWithServeFlags_AndStops()
    {
        await using var service = await OpenRcService.CreateAsync("ahm-coordinator", dir => $"""
            AHM_COORDINATOR_CONFIG="{dir}/absent.conf"
            AHM_COORDINATOR_LISTEN="127.0.0.1:7470"
            AHM_COORDINATOR_DATA_DIR="{dir}/data"
            AHM_COORDINATOR_LOG_DIR="{dir}/log"
            AHM_COORDINATOR_GEOIP="{dir}/city.mmdb"
            AHM_COORDINATOR_STOP_SCHEDULE="TERM/10/KILL/5"
            """, prefix: "AHM_COORDINATOR");

        var refused = await service.RunAsync("start");
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("city.mmdb is missing", refused.Stdout + refused.Stderr, StringComparison.Ordinal);

        await File.WriteAllTextAsync(Path.Combine(service.Dir, "city.mmdb"), string.Empty);
        var started = await service.RunAsync("start");
        Assert.True(started.ExitCode == 0, $"start failed:\n{started.Stdout}{started.Stderr}");
        var run = await service.WaitForStartAsync(previousPid: null);
        Assert.Equal(service.User, run.User);
        Assert.Equal(
            ["serve", "--listen", "127.0.0.1:7470", "--admin-listen", "127.0.0.1:7471", "--data-dir", $"{service.Dir}/data", "--geoip", $"{service.Dir}/city.mmdb"],
            run.Arguments);
        Assert.Equal(service.User, await OpenRcService.OwnerAsync($"{service.Dir}/data"));

        var stopped = await service.RunAsync("stop");
        Assert.True(stopped.ExitCode == 0, $"stop failed:\n{stopped.Stdout}{stopped.Stderr}");
        await Eventually.TrueAsync(() => !Directory.Exists($"/proc/{run.Pid}"), "the coordinator to exit after stop", TimeSpan.FromSeconds(20));
        Assert.Equal(3, (await service.RunAsync("status")).ExitCode);
    }
}

/// <summary>A temporary copy of one of our init scripts, run by openrc-run, and everything needed to leave no trace.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal sealed class OpenRcService : IAsyncDisposable
{
    public const string OpenRcRun = "/sbin/openrc-run";
    private const string StateRoot = "/run/openrc";
    private static readonly SemaphoreSlim Softlevel = new(1, 1);

    private readonly TempDir _temp;
    private readonly bool _createdStateRoot;
    private readonly bool _createdSoftlevel;
    private readonly HashSet<int> _pids = [];

    private OpenRcService(TempDir temp, string name, string user, bool createdStateRoot, bool createdSoftlevel)
    {
        _temp = temp;
        Name = name;
        User = user;
        _createdStateRoot = createdStateRoot;
        _createdSoftlevel = createdSoftlevel;
    }

    public sealed record Start(int Pid, string User, IReadOnlyList<string> Arguments);

    public string Name { get; }

    public string User { get; }

    public string Dir => _temp.Path;

    public string Record => _temp.Combine("record", "started");

    private string Script => _temp.Combine("init.d", Name);

    public static async Task<OpenRcService> CreateAsync(string shipped, Func<string, string> confOverrides, string prefix)
    {
        var temp = new TempDir("ahm-openrc");
        // The service user must be able to reach its stand-in command and directories.
        File.SetUnixFileMode(temp.Path, (UnixFileMode)0b111_101_101);
        var name = $"{shipped}-test-{Guid.NewGuid():N}"[..(shipped.Length + 14)];
        var group = (await ExternalProcess.RunAsync("id", ["-gn", "nobody"])).EnsureSuccess("id -gn nobody").Stdout.Trim();

        Directory.CreateDirectory(temp.Combine("init.d"));
        Directory.CreateDirectory(temp.Combine("conf.d"));
        Directory.CreateDirectory(temp.Combine("record"));
        File.SetUnixFileMode(temp.Combine("record"), (UnixFileMode)0b111_111_111);
        File.Copy(PackagingTree.At("init.d", shipped), temp.Combine("init.d", name));
        File.SetUnixFileMode(temp.Combine("init.d", name), (UnixFileMode)0b111_101_101);

        var stand_in = temp.Combine("stand-in");
        await File.WriteAllTextAsync(stand_in, $$"""
            #!/bin/sh
            # Stands in for the real program: records how it was started, then waits like a foreground daemon.
            if [ "$1" = status ] || [ "$1" = admin ]; then echo "fake status: $*"; exit 0; fi
            { echo "pid $$"; echo "user $(id -un)"; for a in "$@"; do echo "arg $a"; done; } > "{{temp.Path}}/record/started.$$"
            mv "{{temp.Path}}/record/started.$$" "{{temp.Path}}/record/started"
            exec sleep 300

            """);
        File.SetUnixFileMode(stand_in, (UnixFileMode)0b111_101_101);

        var conf = await File.ReadAllTextAsync(PackagingTree.At("conf.d", shipped));
        await File.WriteAllTextAsync(temp.Combine("conf.d", name), conf + $"""

            # Test overrides
            {prefix}_BINARY="{stand_in}"
            {prefix}_USER="nobody"
            {prefix}_GROUP="{group}"
            {confOverrides(temp.Path)}

            """);

        // openrc-run refuses to run on a system OpenRC did not boot unless the softlevel file exists (the documented
        // way to run services in containers and chroots); create it for the test only when missing.
        await Softlevel.WaitAsync();
        var createdRoot = !Directory.Exists(StateRoot);
        Directory.CreateDirectory(StateRoot);
        var createdSoftlevel = !File.Exists(Path.Combine(StateRoot, "softlevel"));
        if (createdSoftlevel)
        {
            await File.WriteAllTextAsync(Path.Combine(StateRoot, "softlevel"), string.Empty);
        }

        return new OpenRcService(temp, name, "nobody", createdRoot, createdSoftlevel);
    }

    public Task<ExternalProcess.Result> RunAsync(string command) =>
        ExternalProcess.RunAsync(OpenRcRun, [Script, command], environment: new Dictionary<string, string> { ["EINFO_COLOR"] = "NO" }, timeout: TimeSpan.FromSeconds(60));

    /// <summary>Waits for the stand-in to record a start by a process other than <paramref name="previousPid"/>.</summary>
    public async Task<Start> WaitForStartAsync(int? previousPid)
    {
        Start? start = null;
        await Eventually.TrueAsync(
            () =>
            {
                if (!File.Exists(Record))
                {
                    return false;
                }

                var lines = File.ReadAllLines(Record);
                var pid = int.Parse(lines.Single(l => l.StartsWith("pid ", StringComparison.Ordinal))[4..], System.Globalization.CultureInfo.InvariantCulture);
                if (pid == previousPid)
                {
                    return false;
                }

                _pids.Add(pid);
                start = new Start(
                    pid,
                    lines.Single(l => l.StartsWith("user ", StringComparison.Ordinal))[5..],
                    lines.Where(l => l.StartsWith("arg ", StringComparison.Ordinal)).Select(l => l[4..]).ToList());
                return true;
            },
            previousPid is null ? "the service to start" : "supervise-daemon to respawn the service",
            TimeSpan.FromSeconds(30));
        return start!;
    }

    public static async Task<string> OwnerAsync(string path) =>
        (await ExternalProcess.RunAsync("stat", ["-c", "%U", path])).EnsureSuccess("stat").Stdout.Trim();

    public async ValueTask DisposeAsync()
    {
        try
        {
            // Normally already stopped; if a test failed half-way, stop its supervisor and children by pid.
            var pidfile = $"/run/{Name}.pid";
            if (File.Exists(pidfile) && int.TryParse(File.ReadAllText(pidfile).Trim(), out var supervisor))
            {
                _pids.Add(supervisor);
            }

            foreach (var pid in _pids)
            {
                try
                {
                    using var process = Process.GetProcessById(pid);
                    process.Kill();
                }
                catch (ArgumentException)
                {
                }
                catch (InvalidOperationException)
                {
                }
            }

            await Eventually.TrueAsync(() => _pids.All(pid => !Directory.Exists($"/proc/{pid}")), "test service processes to end", TimeSpan.FromSeconds(10));
            await RunAsync("zap");
            File.Delete(pidfile);
            foreach (var dir in Directory.Exists(StateRoot) ? Directory.GetDirectories(StateRoot) : [])
            {
                var entry = Path.Combine(dir, Name);
                if (Directory.Exists(entry))
                {
                    Directory.Delete(entry, recursive: true);
                }
                else if (File.Exists(entry) || new FileInfo(entry).LinkTarget is not null)
                {
                    File.Delete(entry);
                }
            }

            if (_createdSoftlevel)
            {
                File.Delete(Path.Combine(StateRoot, "softlevel"));
            }

            if (_createdStateRoot)
            {
                Directory.Delete(StateRoot, recursive: true);
            }
        }
        finally
        {
            Softlevel.Release();
            _temp.Dispose();
        }
    }
}
