using System.Diagnostics;
using System.Globalization;
using AdHocMirror.Sync.Apply;
using AdHocMirror.Sync.Tests.Support;
using AdHocMirror.Testing;

namespace AdHocMirror.Sync.Tests.Flow;

/// <summary>The built ahm-sync killed with SIGKILL: its rsync does not keep running (DESIGN.md "Nothing half-applied").</summary>
public sealed class ChildProcessTests
{
    [Fact]
    public async Task Kill_9_of_ahm_sync_mid_transfer_ends_its_rsync_processes_too()
    {
        await using var world = await SyncWorld.CreateAsync(coordinator: false, officialTree: null);
        await world.InstallAsync("v1");
        var slow = await world.ServeAsync("127.0.0.9", await world.CopyOfAsync("v2"), bandwidthKiBps: 24);

        using var sync = world.StartProcess("--no-coordinator", "--official", slow.Uri, "--quiet");
        _ = sync.StandardOutput.ReadToEndAsync();
        _ = sync.StandardError.ReadToEndAsync();
        var children = await TransferringAsync(sync);

        ProcessTable.Kill(sync.Id);
        await sync.WaitForExitAsync();

        await Eventually.TrueAsync(() => children.All(c => !ProcessTable.IsRunning(c)), $"the children {ProcessTable.Describe(children)} end with ahm-sync", TimeSpan.FromSeconds(20));
        var next = await world.SyncProcessAsync("--no-coordinator", "--official", slow.Uri);
        Assert.True(next.ExitCode == 0, next.ToString());
        Assert.Equal(SyncWorld.V2, (await world.VerifyRepositoryAsync()).Generated);
    }

    /// <summary>Interrupted mid-transfer: exit 130 as documented (not System.CommandLine's 143), the tree unchanged, no rsync left.</summary>
    [Theory]
    [InlineData("TERM")]
    [InlineData("INT")]
    public async Task A_signal_mid_transfer_exits_130_and_leaves_the_tree_unchanged(string signal)
    {
        await using var world = await SyncWorld.CreateAsync(coordinator: false, officialTree: null);
        await world.InstallAsync("v1");
        var slow = await world.ServeAsync("127.0.0.9", await world.CopyOfAsync("v2"), bandwidthKiBps: 24);

        // A shell that runs the suite in the background without job control starts it with SIGINT ignored, and an
        // ignored signal stays ignored across exec: give ahm-sync the default disposition a terminal's Ctrl-C meets.
        var direct = world.StartInfo("--no-coordinator", "--official", slow.Uri);
        var start = new ProcessStartInfo("env") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in (string[])["--default-signal=INT", direct.FileName, .. direct.ArgumentList])
        {
            start.ArgumentList.Add(argument);
        }

        using var sync = Process.Start(start)!;
        var stdout = sync.StandardOutput.ReadToEndAsync();
        _ = sync.StandardError.ReadToEndAsync();
        var children = await TransferringAsync(sync);
        await slow.FreezeAsync(); // mid-transfer it stays, whatever the load: the signal cannot come after the end

        (await ExternalProcess.RunAsync("kill", ["-" + signal, sync.Id.ToString(CultureInfo.InvariantCulture)])).EnsureSuccess("kill");
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await sync.WaitForExitAsync(limit.Token);

        Assert.True(sync.ExitCode == 130, $"exit {sync.ExitCode}: {await stdout}");
        Assert.Equal("interrupted", SyncWorld.Parse(sync.ExitCode, await stdout, string.Empty).Status);
        await Eventually.TrueAsync(() => children.All(c => !ProcessTable.IsRunning(c)), $"the children {ProcessTable.Describe(children)} end with ahm-sync", TimeSpan.FromSeconds(20));
        Assert.Equal(SyncWorld.V1, (await world.VerifyRepositoryAsync()).Generated);
    }

    [Fact]
    public async Task Without_the_parent_death_signal_the_next_run_ends_the_rsync_a_killed_run_left_behind()
    {
        await using var world = await SyncWorld.CreateAsync(coordinator: false, officialTree: null);
        await world.InstallAsync("v1");
        var slow = await world.ServeAsync("127.0.0.9", await world.CopyOfAsync("v2"), bandwidthKiBps: 24);

        // As on a system without setpriv: only the ledger of children protects the next run.
        var start = world.StartInfo("--no-coordinator", "--official", slow.Uri, "--quiet");
        start.Environment["AHM_NO_PDEATHSIG"] = "1";
        using var sync = Process.Start(start)!;
        _ = sync.StandardOutput.ReadToEndAsync();
        _ = sync.StandardError.ReadToEndAsync();
        var children = await TransferringAsync(sync);
        try
        {
            var recorded = (await File.ReadAllTextAsync(SyncLock.ChildLedgerPathFor(world.Repository))).Split('\n');
            Assert.Contains(recorded, line => children.Any(c => line.StartsWith($"child {c.ToString(CultureInfo.InvariantCulture)} ", StringComparison.Ordinal) && line.EndsWith(" rsync", StringComparison.Ordinal)));

            // Held where they are: a leftover rsync that writes its next line into the dead parent's pipe ends by itself
            // (EPIPE), which on a busy machine could come before the check below. A stopped one is still there to be
            // ended, as one blocked on a slow mirror would be.
            foreach (var child in children)
            {
                await ExternalProcess.RunAsync("kill", ["-STOP", child.ToString(CultureInfo.InvariantCulture)]);
            }

            ProcessTable.Kill(sync.Id);
            await sync.WaitForExitAsync();
            Assert.Contains(children, ProcessTable.IsRunning); // the leftover would go on writing into its staging dir

            var fast = await world.ServeAsync("127.0.0.10", await world.CopyOfAsync("v2"));
            var next = await world.SyncProcessAsync("--no-coordinator", "--official", fast.Uri);
            Assert.True(children.All(c => !ProcessTable.IsRunning(c)), $"the next run ended the leftovers {ProcessTable.Describe(children)}");
            Assert.True(next.ExitCode == 0, next.ToString());
            Assert.Equal(SyncWorld.V2, (await world.VerifyRepositoryAsync()).Generated);
        }
        finally
        {
            foreach (var child in children.Where(c => ProcessTable.IsRunning(c) && ProcessTable.NameOf(c) == "rsync"))
            {
                ProcessTable.Kill(child);
            }
        }
    }

    /// <summary>Waits until ahm-sync's rsync is transferring (both of its processes run) and returns every descendant of ahm-sync.</summary>
    private static async Task<List<int>> TransferringAsync(Process sync)
    {
        List<int> descendants = [];
        await Eventually.TrueAsync(
            () => (descendants = ProcessTable.DescendantsOf(sync.Id).Select(e => e.Pid).ToList()).Count(p => ProcessTable.NameOf(p) == "rsync") >= 2 || sync.HasExited,
            "ahm-sync's rsync transfers", TimeSpan.FromSeconds(60));
        Assert.False(sync.HasExited, "the sync ended before it could be killed");
        return descendants;
    }
}
