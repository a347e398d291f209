using System.Globalization;
using System.Text;

namespace AdHocMirror.Testing.Leftovers;

/// <summary>
/// Processes this test run started that are still running: found by the run's marker in <c>/proc/PID/environ</c>
/// (inherited by every descendant, whatever it was started by), so other people's processes on a shared machine are
/// never counted, and never killed.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public static class LeftoverProcesses
{
    /// <summary>Processes (not this one) carrying this run's marker.</summary>
    public static IReadOnlyList<ProcessTable.Entry> Find()
    {
        var marker = Encoding.UTF8.GetBytes(TestRun.MarkerVariable + "=" + TestRun.Id + "\0");
        var found = new List<ProcessTable.Entry>();
        foreach (var entry in ProcessTable.Snapshot())
        {
            if (entry.Pid == Environment.ProcessId)
            {
                continue;
            }

            try
            {
                var environ = File.ReadAllBytes($"/proc/{entry.Pid.ToString(CultureInfo.InvariantCulture)}/environ");
                if (environ.AsSpan().IndexOf(marker) >= 0 && !IsZombie(entry.Pid))
                {
                    found.Add(entry);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Gone while we looked, or not ours to read.
            }
        }

        return found;
    }

    /// <summary>
    /// Runs the run's end clean-ups, gives whatever was meant to finish on its own (a detached clone of a spare tree) a
    /// few seconds, then kills what is left and fails, naming each process.
    /// </summary>
    public static async Task AssertNoneAsync()
    {
        TestRun.RunAtEnd();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        IReadOnlyList<ProcessTable.Entry> left;
        while ((left = Find()).Count > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200); // polling /proc with a deadline: nothing to wait on for processes that are not our children
        }

        if (left.Count == 0)
        {
            return;
        }

        foreach (var entry in left)
        {
            try
            {
                using var process = System.Diagnostics.Process.GetProcessById(entry.Pid);
                process.Kill(entireProcessTree: true);
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                // Ended meanwhile.
            }
        }

        throw new Xunit.Sdk.XunitException(
            $"{left.Count} process(es) started by this test run were still running after every test had ended (now killed):\n"
            + string.Join('\n', left.Select(e => $"  pid {e.Pid} (parent {e.ParentPid}) {e.Name}: {Shorten(e.CommandLine)}")));
    }

    private static bool IsZombie(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
        return stat[(stat.LastIndexOf(')') + 2)..].StartsWith('Z');
    }

    private static string Shorten(string commandLine) => commandLine.Length > 300 ? commandLine[..300] + "…" : commandLine;
}
