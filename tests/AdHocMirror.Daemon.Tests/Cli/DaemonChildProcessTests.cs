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
    [Fact]
    public async Task Kill_9_of_the_daemon_ends_its_rsync_and_git_daemons()
    {
        await using var world = await MirrorWorld.StartAsync(startDaemon: false);
        var (config, _) = await DaemonProcess.WriteConfigAsync(world, "rsync git");
        var stderr = new StringBuilder();
        using var daemon = DaemonProcess.Start(["run", "--config", config], stderr);
        try
        {
            await WithLogAsync(stderr, Eventually.TrueAsync(
                () => ProcessTable.ChildrenOf(daemon.Id).Select(c => c.Name).ToHashSet() is var names && names.Contains("rsync") && names.Contains("git-daemon"),
                "the daemon runs rsync --daemon and git-daemon", TimeSpan.FromSeconds(90)));
            var servers = ProcessTable.DescendantsOf(daemon.Id).Select(e => e.Pid).ToList();

            daemon.Kill(entireProcessTree: false);
            await daemon.WaitForExitAsync();

            await Eventually.TrueAsync(() => servers.All(p => !ProcessTable.IsRunning(p)), $"the servers {ProcessTable.Describe(servers)} end with the daemon", TimeSpan.FromSeconds(20));
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
        var (config, settings) = await DaemonProcess.WriteConfigAsync(world, "rsync");
        var ledger = Path.Combine(settings["state_dir"]!, "children");
        var stderr = new StringBuilder();
        int leftover;
        // As on a system without setpriv: only the ledger of children can end what a killed daemon leaves.
        using (var first = DaemonProcess.Start(["run", "--config", config], stderr, new Dictionary<string, string> { ["AHM_NO_PDEATHSIG"] = "1" }))
        {
            // The server, not an rsync client still fetching from upstream; and killed only once the ledger records it,
            // which is what the next start reads (a daemon killed in between leaves nothing for the ledger to end).
            static bool IsServer(ProcessTable.Entry c) => c.Name == "rsync" && c.CommandLine.Contains("--daemon", StringComparison.Ordinal);
            await Eventually.TrueAsync(() => ProcessTable.ChildrenOf(first.Id).Any(IsServer), $"the daemon runs rsync --daemon (stderr: {stderr})", TimeSpan.FromSeconds(90));
            leftover = ProcessTable.ChildrenOf(first.Id).First(IsServer).Pid;
            var recorded = $"child {leftover} ";
            await Eventually.TrueAsync(() => File.Exists(ledger) && File.ReadLines(ledger).Any(l => l.StartsWith(recorded, StringComparison.Ordinal)),
                $"the ledger records rsync {leftover} (stderr: {stderr})", TimeSpan.FromSeconds(60));
            first.Kill(entireProcessTree: false);
            await first.WaitForExitAsync();
        }

        try
        {
            Assert.True(ProcessTable.IsRunning(leftover), "without the parent-death signal the server outlives the daemon (what the ledger is for)");
            using var second = DaemonProcess.Start(["run", "--config", config], stderr);
            try
            {
                await Eventually.TrueAsync(() => !ProcessTable.IsRunning(leftover), $"the next start ends the leftover rsync {leftover} (stderr: {stderr})", TimeSpan.FromSeconds(60));
                await Eventually.TrueAsync(() => ProcessTable.ChildrenOf(second.Id).Any(c => c.Name == "rsync" && c.CommandLine.Contains("--daemon", StringComparison.Ordinal)),
                    $"the new daemon runs its own rsync (stderr: {stderr})", TimeSpan.FromSeconds(60));
            }
            finally
            {
                second.Kill(entireProcessTree: true);
                await second.WaitForExitAsync();
            }
        }
        finally
        {
            if (ProcessTable.IsRunning(leftover))
            {
                ProcessTable.Kill(leftover);
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
}
