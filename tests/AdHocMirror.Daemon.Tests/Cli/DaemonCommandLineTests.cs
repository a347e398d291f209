using AdHocMirror.Daemon.Tests.Support;
using AdHocMirror.Hosting;
using AdHocMirror.Testing;

namespace AdHocMirror.Daemon.Tests.Cli;

/// <summary>The daemon's command line: bad input is exit 2 naming what is wrong, and help lists every exit code.</summary>
public sealed class DaemonCommandLineTests
{
    [Theory]
    [InlineData("--bogus")]
    [InlineData("run", "--bogus")]
    [InlineData("status", "--json", "extra")]
    [InlineData("no-such-command")]
    public async Task A_bad_command_line_exits_2(params string[] args)
    {
        var result = await ExternalProcess.RunAsync("dotnet", [DaemonProcess.Dll, .. args]);
        Assert.Equal(ExitCodes.Usage, result.ExitCode);
    }

    [Theory]
    [InlineData]
    [InlineData("run")]
    [InlineData("status")]
    [InlineData("forget-key")]
    public async Task Help_lists_every_exit_code(params string[] command)
    {
        var result = await ExternalProcess.RunAsync("dotnet", [DaemonProcess.Dll, .. command, "--help"]);
        Assert.Equal(ExitCodes.Success, result.ExitCode);
        foreach (var code in new[] { 0, 1, 2, 3, 4 })
        {
            Assert.Matches($@"[ :;]{code} [a-z]", result.Stdout);
        }
    }

    [Fact]
    public async Task Coordinator_may_be_repeated_and_every_value_is_checked()
    {
        using var temp = new TempDir("ahm-daemon-flags");
        var config = temp.Combine("daemon.conf");
        await File.WriteAllTextAsync(config, $"state_dir = {temp.Combine("state")}\ntree_dir = {temp.Combine("tree")}\n");
        var result = await ExternalProcess.RunAsync("dotnet", [DaemonProcess.Dll, "status", "--config", config, "--coordinator", "http://127.0.0.1:7470", "--coordinator", "ftp://b.example.org"]);
        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("coordinator: 'ftp://b.example.org' is not an http:// or https:// URL", result.Stderr, StringComparison.Ordinal);
    }

    [RootFact]
    public async Task Run_as_root_with_a_user_that_does_not_exist_exits_2_naming_the_user_setting()
    {
        using var temp = new TempDir("ahm-daemon-user");
        var config = temp.Combine("daemon.conf");
        await File.WriteAllTextAsync(config, $"state_dir = {temp.Combine("state")}\ntree_dir = {temp.Combine("tree")}\nuser = ahm-no-such-user\n");
        var result = await ExternalProcess.RunAsync("dotnet", [DaemonProcess.Dll, "run", "--config", config]);
        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("user: no such user 'ahm-no-such-user'", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
    }
}
