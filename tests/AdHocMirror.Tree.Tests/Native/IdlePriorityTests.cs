using AdHocMirror.Tree.Native;

namespace AdHocMirror.Tree.Tests.Native;

/// <summary>
/// The read-ahead threads run at nice 19 while rsync runs, and the listing thread is put back at its former nice once
/// rsync has exited (the rest of it is then waited for): only that thread, and only where raising is allowed.
/// </summary>
public sealed class IdlePriorityTests
{
    [Fact]
    public void A_lowered_thread_alone_runs_at_nice_19_and_is_put_back_at_its_former_nice()
    {
        using var lowered = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        (int Tid, int Nice)? result = null;
        var thread = new Thread(() =>
        {
            result = IdlePriority.LowerCurrentThread();
            lowered.Set();
            release.Wait(TimeSpan.FromMinutes(1));
        });
        thread.Start();
        try
        {
            Assert.True(lowered.Wait(TimeSpan.FromMinutes(1)), "the thread lowered itself");
            var (tid, former) = Assert.NotNull(result);
            Assert.Equal(NiceOf(Environment.ProcessId), former);
            Assert.Equal(19, NiceOf(tid));
            Assert.Equal(former, NiceOf(Environment.ProcessId)); // the process's other threads keep theirs

            // Raising needs CAP_SYS_NICE (root, as portage syncs and as the tests run in CI); otherwise it is refused, harmlessly.
            var restored = IdlePriority.Restore((tid, former));
            Assert.Equal(restored ? former : 19, NiceOf(tid));
            Assert.True(restored || Environment.UserName != "root", "root may raise a priority");
        }
        finally
        {
            release.Set();
            thread.Join();
        }
    }

    /// <summary>Field 19 of /proc/PID/task/TID/stat (or /proc/PID/stat), after the parenthesised command name.</summary>
    private static int NiceOf(int tid)
    {
        var stat = File.ReadAllText($"/proc/{Environment.ProcessId}/task/{tid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return int.Parse(fields[16], System.Globalization.CultureInfo.InvariantCulture); // field 19 is the 17th after the name
    }
}
