using AdHocMirror.Swarm;
using AdHocMirror.Testing;

namespace AdHocMirror.EndToEnd.Tests.Swarm;

/// <summary>The README's first command, as CI sees it: the demo story runs to its end on loopback.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class DemoSwarmTests
{
    [Fact]
    public async Task DemoStoryRunsToItsEndAndStopsEverything()
    {
        using var work = new TempDir("ahm-demo-test");
        File.SetUnixFileMode(work.Path, (UnixFileMode)0b111_101_101);
        var output = new StringWriter();

        var code = await new DemoSwarm(work.Path, output).RunAsync();

        var story = output.ToString();
        Assert.True(code == 0, story);
        Assert.True(story.Contains("3 mirror(s)", StringComparison.Ordinal), story);
        Assert.True(story.Contains("from mirror rsync://127.0.0.2:", StringComparison.Ordinal), story); // the nearest, Berlin, for the first syncs
        Assert.True(story.Contains("from mirror rsync://127.0.0.3:", StringComparison.Ordinal), story); // Paris once Berlin is blacklisted
        Assert.True(story.Contains("blacklist-key", StringComparison.Ordinal), story);
        Assert.True(story.Contains("daemon-berlin    exited 4", StringComparison.Ordinal), story);
        Assert.True(story.Contains("daemon-paris     exited 0", StringComparison.Ordinal), story);
        Assert.True(story.Contains("coordinator      exited 0", StringComparison.Ordinal), story);
        Assert.True(Directory.Exists(Path.Combine(work.Path, "user", "gentoo", "metadata")), story);
    }
}
