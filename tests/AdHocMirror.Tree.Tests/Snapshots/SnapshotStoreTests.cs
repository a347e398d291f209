using System.Diagnostics;
using AdHocMirror.Testing;
using AdHocMirror.Tree.Snapshots;
using AdHocMirror.Tree.Versions;

namespace AdHocMirror.Tree.Tests.Snapshots;

public sealed class SnapshotStoreTests
{
    private static readonly TreeVersion V1 = TreeVersion.FromManifestTimestamp("2026-11-21T00:00:00Z");
    private static readonly TreeVersion V2 = TreeVersion.FromManifestTimestamp("2026-11-21T00:30:00Z");
    private static readonly TreeVersion V3 = TreeVersion.FromManifestTimestamp("2026-11-21T01:00:00Z");

    private static Snapshot Publish(SnapshotStore store, TreeVersion version, string content)
    {
        var incoming = store.BeginIncoming();
        File.WriteAllText(Path.Combine(incoming.Path, "Manifest"), content);
        return store.Publish(incoming, version);
    }

    [Fact]
    public void Publishing_swaps_the_current_link_and_keeps_versions()
    {
        using var temp = new TempDir();
        var store = new SnapshotStore(new SnapshotStoreOptions { Root = temp.Path }, new ManualClock());
        Assert.Null(store.Current);
        Assert.Null(store.BeginIncoming().LinkDest);

        var first = Publish(store, V1, "one");
        Assert.Equal(first.Id, store.Current!.Id);
        Assert.Equal(V1, store.Current.Version);
        Assert.Equal("one", File.ReadAllText(Path.Combine(store.CurrentPath, "Manifest")));
        Assert.Equal(first.Path, store.BeginIncoming().LinkDest);

        var second = Publish(store, V2, "two");
        Assert.Equal("two", File.ReadAllText(Path.Combine(store.CurrentPath, "Manifest")));
        Assert.Equal(V2, store.Current!.Version);
        Assert.Equal([first.Id, second.Id], store.List().Select(s => s.Id));

        // A store reopened after a restart sees the same state.
        var reopened = new SnapshotStore(new SnapshotStoreOptions { Root = temp.Path }, new ManualClock());
        Assert.Equal(second.Id, reopened.Current!.Id);
        Assert.Equal(V2, reopened.Current.Version);
    }

    [Fact]
    public void An_older_tree_is_never_published()
    {
        using var temp = new TempDir();
        var store = new SnapshotStore(new SnapshotStoreOptions { Root = temp.Path }, new ManualClock());
        Publish(store, V2, "two");
        var incoming = store.BeginIncoming();
        Assert.Contains("rollback", Assert.Throws<InvalidOperationException>(() => store.Publish(incoming, V1)).Message, StringComparison.Ordinal);
        Assert.Equal(V2, store.Current!.Version);
        store.Discard(incoming);
        Assert.False(Directory.Exists(incoming.Path));
    }

    [Fact]
    public async Task A_retired_snapshot_stays_while_a_transfer_works_in_it_and_goes_after_the_grace()
    {
        using var temp = new TempDir();
        var clock = new ManualClock();
        var store = new SnapshotStore(new SnapshotStoreOptions { Root = temp.Path, RetireGrace = TimeSpan.FromMinutes(2), KeepRetired = 0 }, clock);
        var first = Publish(store, V1, "one");

        // A transfer in progress: like rsync --daemon, it entered the module path (the current link) and works there.
        using var transfer = Process.Start(new ProcessStartInfo("sleep", ["60"]) { WorkingDirectory = store.CurrentPath, UseShellExecute = false })!;
        try
        {
            await Eventually.TrueAsync(() => new FileInfo($"/proc/{transfer.Id}/cwd").LinkTarget == first.Path, "the transfer to enter the snapshot");
            var second = Publish(store, V2, "two");
            Assert.Equal(first.Path, new FileInfo($"/proc/{transfer.Id}/cwd").LinkTarget);

            Assert.Equal(0, store.Prune());
            clock.Advance(TimeSpan.FromMinutes(3));
            Assert.Equal(0, store.Prune());
            Assert.True(Directory.Exists(first.Path));
        }
        finally
        {
            transfer.Kill();
            await transfer.WaitForExitAsync();
        }

        Assert.Equal(1, store.Prune());
        Assert.False(Directory.Exists(first.Path));
        Assert.Equal(V2, store.Current!.Version);
        Assert.Equal("two", File.ReadAllText(Path.Combine(store.CurrentPath, "Manifest")));
    }

    [Fact]
    public void Pruning_keeps_the_newest_retired_snapshots_and_drops_abandoned_incoming_dirs()
    {
        using var temp = new TempDir();
        var clock = new ManualClock();
        var store = new SnapshotStore(new SnapshotStoreOptions { Root = temp.Path, RetireGrace = TimeSpan.FromMinutes(1), KeepRetired = 1 }, clock);
        var first = Publish(store, V1, "one");
        clock.Advance(TimeSpan.FromMinutes(1));
        var second = Publish(store, V2, "two");
        clock.Advance(TimeSpan.FromMinutes(1));
        var third = Publish(store, V3, "three");
        var active = store.BeginIncoming();
        var abandoned = Path.Combine(temp.Path, "incoming", "20261121T000000Z-deadbeef");
        Directory.CreateDirectory(abandoned);
        clock.Advance(TimeSpan.FromMinutes(5));

        Assert.Equal(1, store.Prune());

        Assert.False(Directory.Exists(first.Path));
        Assert.True(Directory.Exists(second.Path));
        Assert.True(Directory.Exists(third.Path));
        Assert.True(Directory.Exists(active.Path));
        Assert.False(Directory.Exists(abandoned));
    }
}
