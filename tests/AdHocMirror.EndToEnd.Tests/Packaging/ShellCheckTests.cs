using System.Text.RegularExpressions;
using AdHocMirror.Testing;

namespace AdHocMirror.EndToEnd.Tests.Packaging;

/// <summary>Debian's shellcheck, as POSIX sh (what openrc-run runs), over every script under openrc/.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed partial class ShellCheckTests
{
    /// <summary>
    /// The only rule openrc-run scripts inherently trip: variables such as <c>command_args</c> are read by openrc-run
    /// after it sources the script, which shellcheck cannot see.
    /// </summary>
    private static readonly HashSet<string> AllowedDisables = ["SC2034"];

    [Fact]
    public void TheScriptsAreFound()
    {
        var names = PackagingTree.ShellScripts().Select(PackagingTree.Relative).ToList();
        Assert.Contains(Path.Combine("openrc", "init.d", "ahm-daemon"), names);
        Assert.Contains(Path.Combine("openrc", "init.d", "ahm-coordinator"), names);
        Assert.Contains(Path.Combine("openrc", "conf.d", "ahm-daemon"), names);
        Assert.Contains(Path.Combine("openrc", "conf.d", "ahm-coordinator"), names);
    }

    [NeedsProgramFact("shellcheck")]
    public async Task EveryScriptPassesShellCheckAsPosixSh()
    {
        var scripts = PackagingTree.ShellScripts();
        var result = await ExternalProcess.RunAsync("shellcheck", ["--shell=sh", "--severity=style", "--format=gcc", .. scripts], timeout: TimeSpan.FromSeconds(60));
        Assert.True(result.ExitCode == 0, $"shellcheck found problems:\n{result.Stdout}{result.Stderr}");
    }

    [Fact]
    public void InitScriptsAreOpenRcRunScriptsDeclaredAsSh()
    {
        foreach (var script in Directory.GetFiles(PackagingTree.At("init.d")))
        {
            var lines = File.ReadAllLines(script);
            Assert.Equal("#!/sbin/openrc-run", lines[0]);
            Assert.Contains("# shellcheck shell=sh", lines.Take(3));
            Assert.True((File.GetUnixFileMode(script) & UnixFileMode.UserExecute) != 0, $"{script} is not executable");
        }
    }

    [Fact]
    public void OnlyRulesOpenRcRunScriptsInherentlyTripAreDisabled_EachWithItsReason()
    {
        foreach (var script in PackagingTree.ShellScripts())
        {
            var lines = File.ReadAllLines(script);
            for (var i = 0; i < lines.Length; i++)
            {
                var match = Disable().Match(lines[i]);
                if (!match.Success)
                {
                    continue;
                }

                var codes = match.Groups[1].Value.Split(',', StringSplitOptions.TrimEntries);
                Assert.All(codes, code => Assert.True(AllowedDisables.Contains(code), $"{PackagingTree.Relative(script)}:{i + 1} disables {code}"));
                var reasoned = lines[i].Contains(" # ", StringComparison.Ordinal) || (i > 0 && lines[i - 1].TrimStart().StartsWith('#') && !Disable().IsMatch(lines[i - 1]));
                Assert.True(reasoned, $"{PackagingTree.Relative(script)}:{i + 1}: say why the rule is disabled");
            }
        }
    }

    [GeneratedRegex(@"#\s*shellcheck\s+disable=([A-Z0-9, ]+)")]
    private static partial Regex Disable();
}
