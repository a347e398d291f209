using AdHocMirror.Hosting;
using AdHocMirror.Sync.Cli;

namespace AdHocMirror.Sync.Tests.Cli;

public sealed class SyncCommandLineTests
{
    [Theory]
    [InlineData("--bogus")]
    [InlineData("--protocol", "gopher")]
    [InlineData("--candidates", "many")]
    [InlineData("extra-argument")]
    public async Task A_bad_command_line_exits_2(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        Assert.Equal(ExitCodes.Usage, await SyncCommandLine.InvokeAsync(args, stdout, stderr));
        Assert.NotEmpty(stderr.ToString());
    }

    [Fact]
    public async Task Help_lists_every_exit_code()
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        Assert.Equal(ExitCodes.Success, await SyncCommandLine.InvokeAsync(["--help"], stdout, stderr));
        var help = stdout.ToString();
        foreach (var code in new[] { 0, 1, 2, 3, 4, 5, 6, 7, 130 })
        {
            Assert.Matches($@"[ :;]{code} [a-z]", help);
        }
    }
}
