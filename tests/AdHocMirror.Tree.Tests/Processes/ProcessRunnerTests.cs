using System.Text;
using AdHocMirror.Tree.Processes;

namespace AdHocMirror.Tree.Tests.Processes;

public sealed class ProcessRunnerTests
{
    [Fact]
    public async Task Passes_input_environment_and_captures_output_and_exit_code()
    {
        var result = await ProcessRunner.Instance.RunAsync(new ProcessSpec("sh", ["-c", "cat; echo \"$AHM_X\" >&2; exit 3"])
        {
            StandardInput = Encoding.UTF8.GetBytes("hello"),
            Environment = new Dictionary<string, string?> { ["AHM_X"] = "set" },
        });
        Assert.Equal((3, "hello", "set\n"), (result.ExitCode, result.StandardOutput, result.StandardError));
    }

    [Fact]
    public async Task A_program_that_overruns_its_time_is_killed()
    {
        var started = DateTime.UtcNow;
        await Assert.ThrowsAsync<TimeoutException>(() => ProcessRunner.Instance.RunAsync(new ProcessSpec("sleep", ["30"]) { Timeout = TimeSpan.FromMilliseconds(200) }));
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_missing_program_is_a_clear_error()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => ProcessRunner.Instance.RunAsync(new ProcessSpec("/nonexistent/gpg", [])));
        Assert.Contains("/nonexistent/gpg", error.Message, StringComparison.Ordinal);
    }
}
