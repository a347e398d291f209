using System.Diagnostics;
using System.Globalization;
using System.Text;
using AdHocMirror.Daemon.Tests.Support;
using AdHocMirror.Testing;

namespace AdHocMirror.Daemon.Tests.Cli;

/// <summary>
/// A hard-killed <c>ahm-daemon</c> (kill -9, OOM killer) leaves no stock server running: the kernel signals them when
/// the daemon dies, and where that is unavailable the next start ends what the last one left (its ledger of children).
/// </summary>
public sealed class DaemonChildProcessTests
{
    private static string DaemonDll => Path.Combine(AppContext.BaseDirectory, "ahm-daemon.dll");

    [Fact]
    public async Task Kill_9_of_the_daemon_ends_its_rsync_and_git_daemons()
    {
        await using var world = await MirrorWorld.StartAsync(startDaemon: false);
        var config = await ConfigAsync(world, "rsync git");
        var stderr = new StringBuilder();
        using var daemon = Start(config, stderr);
        try
        {
            await WithLogAsync(stderr, Eventually.TrueAsync(
                () => ChildrenOf(daemon.Id).Select(CommandOf).ToHashSet() is var names && names.Contains("rsync") && names.Contains("git-daemon"),
                "the daemon runs rsync --daemon and git-daemon", TimeSpan.FromSeconds(90)));
            var servers = DescendantsOf(daemon.Id);

            daemon.Kill(entireProcessTree: false);
            await daemon.WaitForExitAsync();

            await Eventually.TrueAsync(() => servers.All(Gone), $"the servers {Describe(servers)} end with the daemon", TimeSpan.FromSeconds(20));
        }
        finally
        {
            if (!daemon.HasExited)
            {
                daemon.Kill(entireProcessTree: true);
            }
        }
    }

    [Fact]
    public async Task Without_the_parent_death_signal_the_next_start_ends_the_server_a_killed_daemon_left_running()
    {
        await using var world = await MirrorWorld.StartAsync(startDaemon: false);
        var config = await ConfigAsync(world, "rsync");
        var stderr = new StringBuilder();
        int leftover;
        using (var first = Start(config, stderr, withoutParentDeathSignal: true))
        {
            await Eventually.TrueAsync(() => ChildrenOf(first.Id).Any(c => CommandOf(c) == "rsync"), $"the daemon runs rsync --daemon (stderr: {stderr})", TimeSpan.FromSeconds(90));
            leftover = ChildrenOf(first.Id).First(c => CommandOf(c) == "rsync");
            first.Kill(entireProcessTree: false);
            await first.WaitForExitAsync();
        }

        try
        {
            Assert.False(Gone(leftover), "without the parent-death signal the server outlives the daemon (what the ledger is for)");
            using var second = Start(config, stderr);
            try
            {
                await Eventually.TrueAsync(() => Gone(leftover), $"the next start ends the leftover rsync {leftover} (stderr: {stderr})", TimeSpan.FromSeconds(60));
                await Eventually.TrueAsync(() => ChildrenOf(second.Id).Any(c => CommandOf(c) == "rsync"), $"the new daemon runs its own rsync (stderr: {stderr})", TimeSpan.FromSeconds(60));
            }
            finally
            {
                second.Kill(entireProcessTree: true);
                await second.WaitForExitAsync();
            }
        }
        finally
        {
            if (!Gone(leftover))
            {
                Process.GetProcessById(leftover).Kill();
            }
        }
    }

    private static async Task WithLogAsync(StringBuilder stderr, Task waiting)
    {
        try
        {
            await waiting;
        }
        catch (TimeoutException e)
        {
            lock (stderr)
            {
                throw new TimeoutException($"{e.Message}; daemon log:\n{stderr}", e);
            }
        }
    }

    private static async Task<string> ConfigAsync(MirrorWorld world, string protocols)
    {
        var settings = world.Settings();
        settings["protocols"] = protocols;
        settings["user"] = "nobody";
        var keyring = Path.Combine(world.Root, "gentoo-release.asc");
        File.Copy(world.Upstream.Key.PublicKeyFile, keyring, overwrite: true);
        settings["keyring"] = keyring;
        if (protocols == "rsync")
        {
            settings["upstream"] = world.Upstream.RsyncUri;
        }
        else
        {
            // The daemon runs as nobody, and git refuses to fetch from a local repository owned by someone else.
            (await ExternalProcess.RunAsync("chown", ["-R", "nobody", world.Upstream.GitRepository])).EnsureSuccess("chown");
        }

        var config = Path.Combine(world.Root, "daemon.conf");
        await File.WriteAllTextAsync(config, string.Concat(settings.Select(p => $"{p.Key} = {p.Value}\n")));
        return config;
    }

    private static Process Start(string config, StringBuilder stderr, bool withoutParentDeathSignal = false)
    {
        var start = new ProcessStartInfo("dotnet", [DaemonDll, "run", "--config", config]) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        if (withoutParentDeathSignal)
        {
            start.Environment["AHM_NO_PDEATHSIG"] = "1"; // as on a system without setpriv
        }

        var process = Process.Start(start)!;
        process.ErrorDataReceived += (_, e) =>
        {
            lock (stderr)
            {
                stderr.AppendLine(e.Data);
            }
        };
        process.OutputDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        return process;
    }

    private static List<int> ChildrenOf(int pid)
    {
        try
        {
            return [.. Directory.GetDirectories($"/proc/{pid}/task")
                .SelectMany(t => File.ReadAllText(Path.Combine(t, "children")).Split(' ', StringSplitOptions.RemoveEmptyEntries))
                .Select(c => int.Parse(c, CultureInfo.InvariantCulture))];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    private static List<int> DescendantsOf(int root)
    {
        var found = new List<int>();
        var pending = new Stack<int>([root]);
        while (pending.Count > 0)
        {
            foreach (var child in ChildrenOf(pending.Pop()))
            {
                found.Add(child);
                pending.Push(child);
            }
        }

        return found;
    }

    private static string CommandOf(int pid)
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

    /// <summary>Gone, or a zombie waiting for a reaper (it runs no more).</summary>
    private static bool Gone(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[stat.LastIndexOf(')') + 2] == 'Z';
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return true;
        }
    }

    private static string Describe(IEnumerable<int> pids) => string.Join(", ", pids.Select(p => $"{p} {CommandOf(p)}{(Gone(p) ? " (gone)" : string.Empty)}"));
}
