using AdHocMirror.Testing;
using AdHocMirror.Tree.Apply;
using AdHocMirror.Tree.Manifests;
using AdHocMirror.Tree.Native;

namespace AdHocMirror.Tree.Tests.Apply;

/// <summary>
/// The detached shells that finish the spare (the clone after a first install, the refresh after a swap) change the
/// spare's name only under the repository lock, so a sync holding it never sees the spare appear or vanish.
/// </summary>
public sealed class SpareTreeTests : IDisposable
{
    private readonly TempDir _temp = new("ahm-spare");

    public SpareTreeTests()
    {
        Directory.CreateDirectory(Path.Combine(Repo, "app-misc", "foo"));
        File.WriteAllText(Path.Combine(Repo, "app-misc", "foo", "foo-1.ebuild"), "EAPI=8\n");
        File.WriteAllText(Path.Combine(Repo, "Manifest"), "TIMESTAMP 2026-12-07T00:00:00Z\n");
    }

    private string Repo => _temp.Combine("repos", "gentoo");

    private string Spare => _temp.Combine("repos", ".gentoo.ahm-spare");

    private static readonly StagingOptions Options = new() { KeepSpare = true };

    [Fact]
    public async Task A_clone_that_finishes_while_a_sync_holds_the_repository_waits_and_never_lands_under_it()
    {
        // The CI failure this guards: a second sync found no spare, the first sync's clone then became the spare, and
        // the second sync's "up to date" staging could not take the name (rename: Directory not empty).
        using (var staging = StagingArea.Create(Repo, Options))
        {
            Assert.False(staging.FromSpare);
            SpareTree.StartCloning(Repo);
            await Eventually.TrueAsync(() => WaitingForTheLock(".gentoo.ahm-cloning-"), "the clone is copied and waits for the repository lock");
            Assert.False(Directory.Exists(Spare), "no spare appears while the sync holds the repository");

            File.WriteAllText(Path.Combine(staging.Path, "staged"), "the sync's own tree");
            staging.KeepAsSpare();
        }

        await Eventually.TrueAsync(() => !Leftovers().Any(l => l.Contains(".ahm-cloning-", StringComparison.Ordinal)), "the clone, finding a spare there, is dropped");
        Assert.True(File.Exists(Path.Combine(Spare, "staged")), "the spare is the sync's tree");
    }

    [Fact]
    public async Task A_clone_whose_sync_has_ended_becomes_the_spare()
    {
        using (StagingArea.Create(Repo, Options))
        {
            SpareTree.StartCloning(Repo);
            await Eventually.TrueAsync(() => WaitingForTheLock(".gentoo.ahm-cloning-"), "the clone waits for the repository lock");
        }

        await Eventually.TrueAsync(() => Directory.Exists(Spare) && !Leftovers().Any(l => l.Contains(".ahm-cloning-", StringComparison.Ordinal)), "the clone becomes the spare");
        Assert.Equal(Inode(Path.Combine(Repo, "app-misc", "foo", "foo-1.ebuild")), Inode(Path.Combine(Spare, "app-misc", "foo", "foo-1.ebuild")));
    }

    [Fact]
    public void A_spare_that_appears_under_a_sync_anyway_is_kept_and_the_staging_directory_removed()
    {
        // What a writer that does not take the lock (an older ahm-sync's detached clone) could leave: no crash.
        string staged;
        using (var staging = StagingArea.Create(Repo, Options))
        {
            staged = staging.Path;
            Directory.CreateDirectory(Path.Combine(Spare, "app-misc"));
            File.WriteAllText(Path.Combine(staging.Path, "staged"), "the sync's own tree");
            staging.KeepAsSpare();
        }

        Assert.False(Directory.Exists(staged));
        Assert.True(Directory.Exists(Path.Combine(Spare, "app-misc")));
        Assert.False(File.Exists(Path.Combine(Spare, "staged")));
    }

    [Fact]
    public async Task A_refresh_takes_the_spare_only_under_the_repository_lock()
    {
        (await ExternalProcess.RunAsync("cp", ["-al", "--", Repo, Spare])).EnsureSuccess("cp -al");
        File.WriteAllText(Path.Combine(Repo, "app-misc", "foo", "foo-2.ebuild"), "EAPI=8\n");
        var delta = new TreeDelta([new DirectoryDelta("app-misc/foo", [], [], ["foo-2.ebuild"])]);

        using (RepositoryLock.Acquire(Repo, TimeSpan.Zero))
        {
            Assert.True(SpareTree.StartRefreshing(Spare, Repo, delta));
            await Eventually.TrueAsync(() => WaitingForTheLock(".gentoo.ahm-spare"), "the refresh waits for the repository lock");
            Assert.True(Directory.Exists(Spare), "the spare stays where a sync holding the lock expects it");
        }

        await Eventually.TrueAsync(() => !Leftovers().Any(l => l.Contains(".ahm-refresh", StringComparison.Ordinal)), "the refresh ends");
        Assert.Equal(Inode(Path.Combine(Repo, "app-misc", "foo", "foo-2.ebuild")), Inode(Path.Combine(Spare, "app-misc", "foo", "foo-2.ebuild")));
    }

    [Fact]
    public async Task Recovery_leaves_the_spare_of_a_refresh_that_still_runs()
    {
        // A refresh that took the spare after the sync looked for running refreshes: its shell (same process name) is
        // alive, so its tree is not retired; it gives it back or drops it once the sync ends.
        using var shell = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("/bin/sh", ["-c", "read go", "ahm-refresh-spare"])
        {
            RedirectStandardInput = true,
            UseShellExecute = false,
        })!;
        try
        {
            var refreshing = _temp.Combine("repos", ".gentoo.ahm-refreshing-" + shell.Id);
            (await ExternalProcess.RunAsync("cp", ["-al", "--", Repo, refreshing])).EnsureSuccess("cp -al");
            using (RepositoryLock.Acquire(Repo, TimeSpan.Zero))
            {
                TreeSwap.RecoverLocked(Repo, Options);
            }

            Assert.True(Directory.Exists(refreshing));
        }
        finally
        {
            await shell.StandardInput.WriteLineAsync("go");
            await shell.WaitForExitAsync();
        }
    }

    [Fact]
    public async Task A_second_staging_area_waits_for_the_lock_and_reports_the_repository_busy_when_it_stays_held()
    {
        var held = RepositoryLock.Acquire(Repo, TimeSpan.Zero);
        var error = Assert.Throws<IOException>(() => StagingArea.Create(Repo, new StagingOptions { LockWait = TimeSpan.FromMilliseconds(50) }));
        Assert.Contains("is being updated by another process", error.Message, StringComparison.Ordinal);

        var waiting = Task.Run(() => StagingArea.Create(Repo, new StagingOptions { LockWait = TimeSpan.FromMinutes(1) }));
        held.Dispose();
        using var staging = await waiting.WaitAsync(TimeSpan.FromMinutes(1));
        Assert.True(Directory.Exists(staging.Path));
    }

    public void Dispose() => _temp.Dispose();

    private IEnumerable<string> Leftovers() =>
        Directory.EnumerateFileSystemEntries(_temp.Combine("repos")).Select(Path.GetFileName).Where(n => n != "gentoo" && n != ".gentoo.ahm-lock")!;

    /// <summary>A <c>flock</c> process of ours waiting for this repository's lock to rename a path containing <paramref name="name"/>.</summary>
    private bool WaitingForTheLock(string name)
    {
        var lockPath = _temp.Combine("repos", ".gentoo.ahm-lock");
        foreach (var process in Directory.EnumerateDirectories("/proc").Select(Path.GetFileName).Where(p => p!.All(char.IsAsciiDigit)))
        {
            try
            {
                var arguments = File.ReadAllText($"/proc/{process}/cmdline").Split('\0');
                if (arguments.Length > 2 && arguments[0] == "flock" && arguments.Contains(lockPath) && arguments.Any(a => a.Contains(name, StringComparison.Ordinal)))
                {
                    return true;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The process ended while we looked.
            }
        }

        return false;
    }

    private static ulong Inode(string path)
    {
        Assert.True(FileIdentity.TryGet(path, out var identity), path);
        return identity.Inode;
    }
}
