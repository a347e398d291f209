using System.Diagnostics;
using AdHocMirror.Tree.Processes;

namespace AdHocMirror.Tree.Tests.Processes;

/// <summary>Children get the parent-death signal, tied to a thread that lives as long as the process.</summary>
public sealed class ChildStarterTests
{
    [Fact]
    public void Children_die_with_this_process_on_linux_with_setpriv()
    {
        Assert.True(ChildStarter.DiesWithParent, "setpriv --pdeathsig (util-linux) is expected on the test machine");
    }

    [Fact]
    public async Task A_child_started_from_a_thread_that_then_ends_keeps_running()
    {
        var start = new ProcessStartInfo("sh", ["-c", "read line; echo \"alive $line\""])
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
        };
        using var process = new Process { StartInfo = start };
        IDisposable? recorded = null;
        // Forking on this short-lived thread would tie the parent-death signal to it and kill the child when it ends.
        var starter = new Thread(() => recorded = ChildStarter.Start(process, null));
        starter.Start();
        starter.Join();

        await process.StandardInput.WriteLineAsync("after the thread ended");
        process.StandardInput.Close();
        Assert.Equal("alive after the thread ended", (await process.StandardOutput.ReadToEndAsync()).Trim());
        await process.WaitForExitAsync();
        Assert.Equal(0, process.ExitCode);
        recorded!.Dispose();
    }

    [Fact]
    public async Task A_child_runs_its_own_program_directly_under_this_process()
    {
        // setpriv execs the program: same pid, parent is us (the daemon counts connections as its servers' children).
        using var process = new Process
        {
            StartInfo = new ProcessStartInfo("sh", ["-c", "grep -E '^(Name|PPid)' /proc/$$/status; cat /proc/$$/cmdline | tr '\\0' ' '"])
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
            },
        };
        using (ChildStarter.Start(process, null))
        {
            var output = await process.StandardOutput.ReadToEndAsync();
            await process.WaitForExitAsync();
            Assert.Contains("Name:\tsh", output, StringComparison.Ordinal);
            Assert.Contains($"PPid:\t{Environment.ProcessId}", output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_program_that_does_not_exist_fails_to_start_as_without_the_wrapper()
    {
        using var process = new Process { StartInfo = new ProcessStartInfo("/nonexistent/program") { UseShellExecute = false } };
        Assert.Throws<System.ComponentModel.Win32Exception>(() => ChildStarter.Start(process, null));
    }
}
