using AdHocMirror.Daemon.Tests.Support;
using AdHocMirror.Testing;

namespace AdHocMirror.Daemon.Tests.Serving;

/// <summary>Nothing outside the snapshot is ever served, whatever upstream puts in the tree.</summary>
public sealed class ServingSafetyTests
{
    [Fact]
    public async Task Symlinks_leading_out_of_the_tree_are_neither_synced_nor_served()
    {
        await using var world = await MirrorWorld.StartAsync(new() { ["protocols"] = "rsync" });
        await world.OnlineAsync(OfficialUpstream.FirstVersion);

        // A signed new version, plus links out of the tree that no Manifest covers.
        await world.Upstream.AdvanceAsync(TimeSpan.FromHours(1), seed: 5);
        File.CreateSymbolicLink(Path.Combine(world.Upstream.RsyncTree, "escape-absolute"), "/etc/passwd");
        File.CreateSymbolicLink(Path.Combine(world.Upstream.RsyncTree, "metadata", "escape-relative"), "../../../../../../../../etc/passwd");
        await world.OnlineAsync(OfficialUpstream.FirstVersion + TimeSpan.FromHours(1));

        var served = world.State.Status.Rsync!.Snapshot!;
        var snapshot = Path.Combine(world.Options.TreeDir, "rsync", "snapshots", served);
        Assert.False(File.Exists(Path.Combine(snapshot, "escape-absolute")) || new FileInfo(Path.Combine(snapshot, "escape-absolute")).LinkTarget is not null);
        Assert.Null(new FileInfo(Path.Combine(snapshot, "metadata", "escape-relative")).LinkTarget);

        var fetch = await ExternalProcess.RunAsync("rsync", ["--copy-links", world.Options.RsyncUri + "/escape-absolute", Path.Combine(world.Root, "stolen")]);
        Assert.NotEqual(0, fetch.ExitCode);
        var dotdot = await ExternalProcess.RunAsync("rsync", [world.Options.RsyncUri + "/../../../../etc/passwd", Path.Combine(world.Root, "stolen2")]);
        Assert.False(File.Exists(Path.Combine(world.Root, "stolen2")) && File.ReadAllText(Path.Combine(world.Root, "stolen2")).Contains("root:", StringComparison.Ordinal), dotdot.Stderr);
    }
}
