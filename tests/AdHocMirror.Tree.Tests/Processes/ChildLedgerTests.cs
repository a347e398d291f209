using System.Diagnostics;
using System.Globalization;
using AdHocMirror.Testing;
using AdHocMirror.Tree.Processes;

namespace AdHocMirror.Tree.Tests.Processes;

/// <summary>The pidfile of children: a hard-killed owner's leftovers are ended by the next owner, and nothing else is.</summary>
public sealed class ChildLedgerTests
{
    private static readonly string BootId = File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim();

    [Fact]
    public async Task Opening_ends_the_children_a_dead_owner_left_running_and_nothing_with_another_identity()
    {
        using var temp = new TempDir("ahm-ledger");
        using var leftover = Sleeper();
        using var reusedPid = Sleeper();
        using var otherProgram = Sleeper();
        var path = temp.Combine("children");
        await File.WriteAllLinesAsync(path,
        [
            $"owner {await DeadPidAsync()} 1 {BootId}",
            $"child {leftover.Id} {StartTicks(leftover.Id)} sleep",
            $"child {reusedPid.Id} {StartTicks(reusedPid.Id) - 1} sleep", // same pid, another process (pid reuse)
            $"child {otherProgram.Id} {StartTicks(otherProgram.Id)} rsync", // cmdline does not name the recorded program
        ]);

        using (var ledger = ChildLedger.Open(path))
        {
            Assert.Equal([leftover.Id], ledger.Ended);
        }

        await Eventually.TrueAsync(() => leftover.HasExited, "the leftover is killed");
        Assert.False(reusedPid.HasExited, "a process whose start time differs from the record is not the leftover");
        Assert.False(otherProgram.HasExited, "a process that does not run the recorded program is not the leftover");
        Stop(reusedPid, otherProgram);
    }

    [Fact]
    public async Task The_children_of_an_owner_that_still_runs_are_left_alone()
    {
        using var temp = new TempDir("ahm-ledger");
        using var owner = Sleeper();
        using var child = Sleeper();
        var path = temp.Combine("children");
        await File.WriteAllLinesAsync(path, [$"owner {owner.Id} {StartTicks(owner.Id)} {BootId}", $"child {child.Id} {StartTicks(child.Id)} sleep"]);

        using (var ledger = ChildLedger.Open(path))
        {
            Assert.Empty(ledger.Ended);
        }

        Assert.False(child.HasExited);
        Stop(owner, child);
    }

    [Fact]
    public async Task A_ledger_written_before_a_reboot_ends_nothing()
    {
        using var temp = new TempDir("ahm-ledger");
        using var child = Sleeper();
        var path = temp.Combine("children");
        await File.WriteAllLinesAsync(path, [$"owner {await DeadPidAsync()} 1 00000000-0000-0000-0000-000000000000", $"child {child.Id} {StartTicks(child.Id)} sleep"]);

        using (var ledger = ChildLedger.Open(path))
        {
            Assert.Empty(ledger.Ended);
        }

        Assert.False(child.HasExited);
        Stop(child);
    }

    [Fact]
    public async Task Records_each_child_while_it_runs_and_forgets_it_when_it_has_exited()
    {
        using var temp = new TempDir("ahm-ledger");
        var path = temp.Combine("children");
        using var ledger = ChildLedger.Open(path);
        var runner = new ProcessRunner(ledger);

        // The child reads the ledger while it runs: its own pid is in it, under its program's name. (It is recorded
        // once started, before its input is written: the parent-death signal covers that instant.)
        var run = await runner.RunAsync(new ProcessSpec("sh", ["-c", "read go; echo \"self $$\"; cat \"$0\"", path]) { StandardInput = "go\n"u8.ToArray() });

        Assert.Equal(0, run.ExitCode);
        var self = run.StandardOutput.Split('\n')[0]["self ".Length..];
        Assert.Contains($"child {self} ", run.StandardOutput, StringComparison.Ordinal);
        Assert.EndsWith(" sh", run.StandardOutput.Split('\n').Single(l => l.StartsWith("child ", StringComparison.Ordinal)), StringComparison.Ordinal);
        Assert.DoesNotContain("child ", await File.ReadAllTextAsync(path), StringComparison.Ordinal);
        Assert.StartsWith($"owner {Environment.ProcessId} ", await File.ReadAllTextAsync(path), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ChildLedger_Current_records_children_of_its_own_asynchronous_flow_only()
    {
        using var temp = new TempDir("ahm-ledger");
        var path = temp.Combine("children");
        using var ledger = ChildLedger.Open(path);
        string seen;
        async Task<string> InFlowAsync()
        {
            ChildLedger.Current = ledger;
            return (await ProcessRunner.Instance.RunAsync(new ProcessSpec("sh", ["-c", "read go; cat \"$0\"", path]) { StandardInput = "go\n"u8.ToArray() })).StandardOutput;
        }

        seen = await InFlowAsync();
        Assert.Contains("child ", seen, StringComparison.Ordinal);
        Assert.Null(ChildLedger.Current);
    }

    private static Process Sleeper() => Process.Start(new ProcessStartInfo("sleep", ["300"]) { UseShellExecute = false })!;

    private static void Stop(params Process[] processes)
    {
        foreach (var process in processes)
        {
            process.Kill();
            process.WaitForExit();
        }
    }

    private static async Task<int> DeadPidAsync()
    {
        using var gone = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        await gone.WaitForExitAsync();
        return gone.Id;
    }

    private static long StartTicks(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        return long.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[19], CultureInfo.InvariantCulture);
    }
}
