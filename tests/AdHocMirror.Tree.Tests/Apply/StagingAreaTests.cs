using System.Diagnostics;
using AdHocMirror.Testing;
using AdHocMirror.Testing.Trees;
using AdHocMirror.Tree.Apply;
using AdHocMirror.Tree.Manifests;
using AdHocMirror.Tree.Native;
using AdHocMirror.Tree.OpenPgp;
using AdHocMirror.Tree.Rsync;
using AdHocMirror.Tree.Versions;

namespace AdHocMirror.Tree.Tests.Apply;

public sealed class StagingAreaTests
{
    private static readonly DateTimeOffset V1 = new(2026, 11, 21, 0, 45, 1, TimeSpan.Zero);
    private static readonly DateTimeOffset V2 = V1.AddHours(1);

    /// <summary>A local repository at version 1 and an "upstream" at version 2 (a few dozen files changed, added, removed).</summary>
    private sealed class Setup : IAsyncDisposable
    {
        public required TempDir Temp { get; init; }

        public required OpenPgpKeyring Keyring { get; init; }

        public string Repo => Temp.Combine("repos", "gentoo");

        public string Upstream => Temp.Combine("upstream");

        public static async Task<Setup> CreateAsync(int files = 150, int changes = 30)
        {
            var temp = new TempDir("ahm-apply");
            var key = await TestSigningKey.SharedAsync();
            await GentooTree.CreateAsync(temp.Combine("repos", "gentoo"), new GentooTreeOptions { Files = files, Timestamp = V1 }, key);
            (await ExternalProcess.RunAsync("cp", ["-a", temp.Combine("repos", "gentoo"), temp.Combine("upstream")])).EnsureSuccess("cp");
            await GentooTree.NextVersionAsync(temp.Combine("upstream"), seed: 2, changes, V2, key);
            return new Setup { Temp = temp, Keyring = await OpenPgpKeyring.OpenAsync(key.PublicKeyFile) };
        }

        public async Task<TreeVersion> VerifiedVersionAsync(string path)
        {
            var result = await new ManifestTreeVerifier().VerifyAsync(path, Keyring);
            Assert.True(result.Succeeded, result.Summary);
            return result.Version;
        }

        public async Task RsyncAsync(StagingArea staging, string? source = null) =>
            (await ExternalProcess.RunAsync("rsync", PortageRsync.Arguments(source ?? Upstream, staging.Path, staging.LinkDest))).EnsureSuccess("rsync");

        /// <summary>What an older install keeps under the repository: downloaded sources, binary packages, local additions.</summary>
        public void WriteLocalData()
        {
            foreach (var (path, text) in LocalFiles)
            {
                Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(Repo, path))!);
                File.WriteAllText(Path.Combine(Repo, path), text);
            }
        }

        public void AssertLocalData(string tree)
        {
            foreach (var (path, text) in LocalFiles)
            {
                Assert.Equal(text, File.ReadAllText(Path.Combine(tree, path)));
            }
        }

        private static readonly (string Path, string Text)[] LocalFiles =
            [("distfiles/foo-1.0.tar.gz", "a download"), ("packages/app-misc/foo-1.0.gpkg.tar", "a binary package"), ("local/README", "mine")];

        public IEnumerable<string> Leftovers() =>
            Directory.EnumerateFileSystemEntries(Temp.Combine("repos")).Select(Path.GetFileName).Where(n => n != "gentoo" && n != ".gentoo.ahm-lock")!;

        public async ValueTask DisposeAsync()
        {
            await Keyring.DisposeAsync();
            Temp.Dispose();
        }
    }

    [Fact]
    public async Task Syncs_into_hard_linked_staging_verifies_and_swaps_into_place()
    {
        await using var setup = await Setup.CreateAsync();
        var current = await setup.VerifiedVersionAsync(setup.Repo);

        using (var staging = StagingArea.Create(setup.Repo))
        {
            Assert.Equal(setup.Repo, staging.LinkDest);
            Assert.Equal(Path.GetDirectoryName(setup.Repo), Path.GetDirectoryName(staging.Path));
            await setup.RsyncAsync(staging);

            var unchanged = Path.Combine("profiles", "repo_name");
            Assert.True(FileIdentity.TryGet(Path.Combine(staging.Path, unchanged), out var linked));
            Assert.True(FileIdentity.TryGet(Path.Combine(setup.Repo, unchanged), out var original));
            Assert.Equal(original.Inode, linked.Inode);

            var verifier = new ManifestTreeVerifier(new ManifestVerifierOptions { UnchangedReference = setup.Repo });
            var result = await verifier.VerifyAsync(staging.Path, setup.Keyring);
            Assert.True(result.Succeeded, result.Summary);
            Assert.True(result.FilesSkipped > 0);
            Assert.True(RollbackGuard.Check(result.Version, current, promised: null).Accepted);
            staging.Commit();
        }

        Assert.Equal(V2, (await setup.VerifiedVersionAsync(setup.Repo)).Generated);
        Assert.Empty(setup.Leftovers());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_failed_sync_leaves_the_tree_untouched_and_the_staging_removed_or_kept(bool keep)
    {
        await using var setup = await Setup.CreateAsync(files: 60, changes: 10);
        var ebuild = GentooTree.ListContent(setup.Upstream).First(f => f.EndsWith(".ebuild", StringComparison.Ordinal));
        await File.AppendAllTextAsync(Path.Combine(setup.Upstream, ebuild), "# corrupted by the mirror");
        string stagingPath;
        using (var staging = StagingArea.Create(setup.Repo, new StagingOptions { KeepFailedStaging = keep }))
        {
            stagingPath = staging.Path;
            await setup.RsyncAsync(staging);
            var result = await new ManifestTreeVerifier().VerifyAsync(staging.Path, setup.Keyring);
            Assert.Contains(result.Problems, p => p.Path == ebuild);
        }

        Assert.Equal(V1, (await setup.VerifiedVersionAsync(setup.Repo)).Generated);
        Assert.Equal(keep, Directory.Exists(stagingPath));

        // The next sync clears what was kept for inspection.
        using (StagingArea.Create(setup.Repo))
        {
            Assert.False(Directory.Exists(stagingPath));
        }
    }

    [Fact]
    public async Task The_first_sync_installs_the_tree_where_there_was_none()
    {
        await using var setup = await Setup.CreateAsync(files: 40, changes: 5);
        var fresh = setup.Temp.Combine("repos", "fresh");
        using (var staging = StagingArea.Create(fresh))
        {
            Assert.Null(staging.LinkDest);
            await setup.RsyncAsync(staging);
            staging.Commit();
        }

        Assert.Equal(V2, (await setup.VerifiedVersionAsync(fresh)).Generated);
    }

    [Theory]
    [InlineData(false, "exchanged", 2)]
    [InlineData(false, "carried-local", 2)]
    [InlineData(false, "deleted-old", 2)]
    [InlineData(true, "marked-verified", 1)]
    [InlineData(true, "moved-old-aside", 2)]
    [InlineData(true, "installed", 2)]
    [InlineData(true, "carried-local", 2)]
    [InlineData(true, "deleted-old", 2)]
    [InlineData(false, "exchanged", 2, true)]
    [InlineData(true, "moved-old-aside", 2, true)]
    [InlineData(true, "installed", 2, true)]
    [InlineData(false, "exchanged", 2, false, true)]
    [InlineData(true, "marked-verified", 1, false, true)]
    [InlineData(true, "moved-old-aside", 2, false, true)]
    [InlineData(true, "installed", 2, false, true)]
    [InlineData(false, "carried-local", 2, false, true)]
    public async Task A_crash_after_any_commit_step_recovers_to_the_old_or_the_new_verified_tree(bool fallback, string crashAfter, int expected, bool background = false, bool keepSpare = false)
    {
        await using var setup = await Setup.CreateAsync(files: 40, changes: 6);
        setup.WriteLocalData();
        var options = new StagingOptions
        {
            ForceRenameFallback = fallback,
            KeepSpare = keepSpare, // an old tree caught before its rename to the spare is retired like any leftover
            KeepFailedStaging = true, // a crashed process deletes nothing
            AfterStep = step =>
            {
                if (step == crashAfter)
                {
                    throw new OperationCanceledException("crash");
                }
            },
        };

        using (var staging = StagingArea.Create(setup.Repo, options))
        {
            await setup.RsyncAsync(staging);
            var verified = await new ManifestTreeVerifier().VerifyAsync(staging.Path, setup.Keyring);
            Assert.True(verified.Succeeded, verified.Summary);
            Assert.Throws<OperationCanceledException>(() => staging.Commit());
        }

        TreeSwap.Recover(setup.Repo, new StagingOptions { RemoveInBackground = background, KeepSpare = keepSpare });

        Assert.Equal(expected == 1 ? V1 : V2, (await setup.VerifiedVersionAsync(setup.Repo)).Generated);
        setup.AssertLocalData(setup.Repo);
        if (background)
        {
            // Whatever is left is retired at once (never again a candidate for the repository path), then removed.
            Assert.All(setup.Leftovers(), l => Assert.StartsWith(".gentoo.ahm-retired-", l, StringComparison.Ordinal));
            await Eventually.TrueAsync(() => !setup.Leftovers().Any(), "the background removal ends");
        }

        Assert.Empty(setup.Leftovers());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task With_background_removal_commit_returns_with_the_new_tree_in_place_and_the_old_one_retired_then_removed(bool fallback)
    {
        await using var setup = await Setup.CreateAsync(files: 60, changes: 6);
        var options = new StagingOptions { RemoveInBackground = true, ForceRenameFallback = fallback };
        using (var staging = StagingArea.Create(setup.Repo, options))
        {
            await setup.RsyncAsync(staging);
            staging.Commit();
        }

        Assert.Equal(V2, (await setup.VerifiedVersionAsync(setup.Repo)).Generated);
        Assert.All(setup.Leftovers(), l => Assert.StartsWith(".gentoo.ahm-retired-", l, StringComparison.Ordinal));
        await Eventually.TrueAsync(() => !setup.Leftovers().Any(), "the old tree is removed in the background");

        // The next update works while (or after) the previous removal runs, and is as good as the first.
        using (var again = StagingArea.Create(setup.Repo, options))
        {
            Assert.Equal(setup.Repo, again.LinkDest);
        }

        await Eventually.TrueAsync(() => !setup.Leftovers().Any(), "an uncommitted staging dir is removed in the background too");
    }

    [Fact]
    public async Task Committed_with_the_verified_delta_the_spare_becomes_a_hard_link_clone_and_the_next_rsync_needs_no_link_dest()
    {
        await using var setup = await Setup.CreateAsync(files: 80, changes: 8);
        var options = new StagingOptions { KeepSpare = true, RemoveInBackground = true };
        using (var staging = StagingArea.Create(setup.Repo, options))
        {
            await setup.RsyncAsync(staging);
            var result = await new ManifestTreeVerifier(new ManifestVerifierOptions { UnchangedReference = setup.Repo }).VerifyAsync(staging.Path, setup.Keyring);
            Assert.True(result.Succeeded, result.Summary);
            Assert.NotNull(result.Delta);
            staging.Commit(result.Delta);
        }

        var spare = Path.Combine(Path.GetDirectoryName(setup.Repo)!, ".gentoo.ahm-spare");
        // The relinking runs detached after the commit; its lists are removed when it ends.
        await Eventually.TrueAsync(() => !setup.Leftovers().Any(l => l.Contains(".ahm-refresh", StringComparison.Ordinal)), "the detached refresh of the spare ends");
        AssertClone(setup.Repo, spare);
        Assert.Equal([".gentoo.ahm-spare"], setup.Leftovers());
        using (var again = StagingArea.Create(setup.Repo, options))
        {
            Assert.True(again.FromSpare);
            Assert.Null(again.LinkDest);
            Assert.Equal(setup.Repo, again.Installed);
        }
    }

    [Fact]
    public async Task A_spare_left_half_refreshed_by_a_shell_that_is_gone_is_retired_not_waited_for_nor_taken()
    {
        await using var setup = await Setup.CreateAsync(files: 40, changes: 4);
        var options = new StagingOptions { KeepSpare = true };
        // What a refresh killed midway leaves: the old tree under the refreshing name of a process that no longer runs.
        var refreshing = Path.Combine(Path.GetDirectoryName(setup.Repo)!, ".gentoo.ahm-refreshing-" + int.MaxValue);
        (await ExternalProcess.RunAsync("cp", ["-al", "--", setup.Repo, refreshing])).EnsureSuccess("cp -al");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using (var staging = StagingArea.Create(setup.Repo, options))
        {
            Assert.False(staging.FromSpare);
            Assert.Empty(Directory.EnumerateFileSystemEntries(staging.Path));
        }

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"recovery waited {clock.Elapsed} for a refresh that is not running");
        Assert.False(Directory.Exists(refreshing));
        Assert.Empty(setup.Leftovers());
    }

    [Fact]
    public async Task A_sync_starting_while_a_refresh_runs_waits_for_it_and_takes_the_refreshed_spare()
    {
        await using var setup = await Setup.CreateAsync(files: 40, changes: 4);
        var options = new StagingOptions { KeepSpare = true };
        var parent = Path.GetDirectoryName(setup.Repo)!;
        var spare = Path.Combine(parent, ".gentoo.ahm-spare");

        // A refresh as the detached shell runs one (same process name), held until the test lets it give the spare back.
        using var shell = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(
            "/bin/sh", ["-c", "read go; mv -T -- \"$1$$\" \"$2\"", "ahm-refresh-spare", Path.Combine(parent, ".gentoo.ahm-refreshing-"), spare])
        {
            RedirectStandardInput = true,
            UseShellExecute = false,
        })!;
        try
        {
            var refreshing = Path.Combine(parent, ".gentoo.ahm-refreshing-" + shell.Id);
            (await ExternalProcess.RunAsync("cp", ["-al", "--", setup.Repo, refreshing])).EnsureSuccess("cp -al");

            var creating = Task.Run(() => StagingArea.Create(setup.Repo, options));
            var first = await Task.WhenAny(creating, Task.Delay(TimeSpan.FromSeconds(2)));
            Assert.NotSame(creating, first); // still waiting for the running refresh, not retiring its tree

            await shell.StandardInput.WriteLineAsync("go");
            await shell.StandardInput.FlushAsync();
            using var staging = await creating.WaitAsync(TimeSpan.FromSeconds(60));
            Assert.True(staging.FromSpare, "the refreshed spare was taken");
            Assert.False(Directory.Exists(refreshing));
        }
        finally
        {
            if (!shell.HasExited)
            {
                shell.Kill();
            }

            await shell.WaitForExitAsync();
        }
    }

    [Fact]
    public async Task A_first_install_leaves_a_spare_cloned_in_the_background()
    {
        await using var setup = await Setup.CreateAsync(files: 60, changes: 6);
        var repo = setup.Temp.Combine("repos", "fresh");
        var options = new StagingOptions { KeepSpare = true, RemoveInBackground = true };
        using (var staging = StagingArea.Create(repo, options))
        {
            await setup.RsyncAsync(staging);
            staging.Commit();
        }

        var spare = setup.Temp.Combine("repos", ".fresh.ahm-spare");
        await Eventually.TrueAsync(() => Directory.Exists(spare) && !Directory.EnumerateFileSystemEntries(setup.Temp.Combine("repos"), ".fresh.ahm-cloning-*").Any(), "the background clone becomes the spare");
        AssertClone(repo, spare);
    }

    /// <summary>Every file of <paramref name="tree"/> is the same inode in <paramref name="clone"/>, and the clone has no other file.</summary>
    private static void AssertClone(string tree, string clone)
    {
        static List<string> Files(string root) =>
            [.. Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(root, f)).Where(f => !f.StartsWith('.')).Order(StringComparer.Ordinal)];
        Assert.Equal(Files(tree), Files(clone));
        Assert.All(Files(tree), f =>
        {
            Assert.True(FileIdentity.TryGet(Path.Combine(tree, f), out var a));
            Assert.True(FileIdentity.TryGet(Path.Combine(clone, f), out var b));
            Assert.Equal(a.Inode, b.Inode);
        });
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public async Task The_machines_own_data_under_the_repository_stays_in_it_across_syncs(bool fallback, bool keepSpare)
    {
        await using var setup = await Setup.CreateAsync(files: 40, changes: 4);
        setup.WriteLocalData();
        var options = new StagingOptions { KeepSpare = keepSpare, ForceRenameFallback = fallback };
        var spare = Path.Combine(Path.GetDirectoryName(setup.Repo)!, ".gentoo.ahm-spare");
        foreach (var round in new[] { 1, 2 })
        {
            using (var staging = StagingArea.Create(setup.Repo, options))
            {
                await setup.RsyncAsync(staging);
                Assert.All(LocalData.Names, n => Assert.False(Path.Exists(Path.Combine(staging.Path, n)), $"round {round}: {n} was received"));
                staging.Commit();
            }

            Assert.Equal(V2, (await setup.VerifiedVersionAsync(setup.Repo)).Generated);
            setup.AssertLocalData(setup.Repo);
            Assert.All(LocalData.Names, n => Assert.False(Path.Exists(Path.Combine(spare, n)), $"round {round}: {n} left in the spare"));
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task With_a_spare_the_replaced_tree_is_kept_and_the_next_staging_dir_is_that_tree_updated_in_place(bool fallback)
    {
        await using var setup = await Setup.CreateAsync(files: 60, changes: 6);
        var options = new StagingOptions { KeepSpare = true, RemoveInBackground = true, ForceRenameFallback = fallback };
        Assert.True(FileIdentity.TryGet(setup.Repo, out var v1Root));
        using (var staging = StagingArea.Create(setup.Repo, options))
        {
            Assert.False(staging.FromSpare);
            await setup.RsyncAsync(staging);
            staging.Commit();
        }

        Assert.Equal([".gentoo.ahm-spare"], setup.Leftovers());
        var spare = Path.Combine(Path.GetDirectoryName(setup.Repo)!, ".gentoo.ahm-spare");
        Assert.Equal(V1, (await setup.VerifiedVersionAsync(spare)).Generated);

        string stagingPath;
        using (var again = StagingArea.Create(setup.Repo, options))
        {
            stagingPath = again.Path;
            Assert.True(again.FromSpare);
            Assert.True(FileIdentity.TryGet(again.Path, out var stagingRoot));
            Assert.Equal(v1Root.Inode, stagingRoot.Inode);
            Assert.False(Directory.Exists(spare));
            await setup.RsyncAsync(again);
            var result = await new ManifestTreeVerifier(new ManifestVerifierOptions { UnchangedReference = setup.Repo }).VerifyAsync(again.Path, setup.Keyring);
            Assert.True(result.Succeeded, result.Summary);
            Assert.True(result.FilesSkipped > 0);
            // Not committed (as after a failed verification): the consumed spare is simply gone.
        }

        Assert.Equal(V2, (await setup.VerifiedVersionAsync(setup.Repo)).Generated);
        await Eventually.TrueAsync(() => !setup.Leftovers().Any(), "the consumed spare is removed");
        using (var fresh = StagingArea.Create(setup.Repo, options))
        {
            Assert.False(fresh.FromSpare);
            Assert.Empty(Directory.EnumerateFileSystemEntries(fresh.Path));
        }
    }

    [Fact]
    public async Task A_spare_is_never_moved_into_place_and_an_interrupted_staging_dir_made_from_it_is_retired()
    {
        await using var setup = await Setup.CreateAsync(files: 20, changes: 2);
        var spare = Path.Combine(Path.GetDirectoryName(setup.Repo)!, ".gentoo.ahm-spare");
        Directory.Move(setup.Repo, spare); // a complete, verified tree, but a spare: never the repository

        TreeSwap.Recover(setup.Repo, new StagingOptions { KeepSpare = true });

        Assert.False(Directory.Exists(setup.Repo));
        Assert.Equal([".gentoo.ahm-spare"], setup.Leftovers());

        // A staging dir made from the spare and left behind (crash, or kept for inspection) is a staging dir like any other.
        string stagingPath;
        using (var staging = StagingArea.Create(setup.Repo, new StagingOptions { KeepSpare = true, KeepFailedStaging = true }))
        {
            Assert.True(staging.FromSpare);
            stagingPath = staging.Path;
        }

        Assert.True(Directory.Exists(stagingPath));
        TreeSwap.Recover(setup.Repo, new StagingOptions { KeepSpare = true });
        Assert.False(Directory.Exists(setup.Repo));
        Assert.Empty(setup.Leftovers());

        // Without KeepSpare (git, or the option turned off) a spare is retired like any other leftover.
        Directory.CreateDirectory(spare);
        TreeSwap.Recover(setup.Repo);
        Assert.Empty(setup.Leftovers());
    }

    [Fact]
    public async Task A_retired_tree_is_never_moved_into_place_even_when_the_repository_is_missing()
    {
        await using var setup = await Setup.CreateAsync(files: 20, changes: 2);
        var retired = Path.Combine(Path.GetDirectoryName(setup.Repo)!, ".gentoo.ahm-retired-0123456789ab");
        Directory.Move(setup.Repo, retired); // a verified tree, but retired: only .ahm-verified / .ahm-previous may come back

        TreeSwap.Recover(setup.Repo);

        Assert.False(Directory.Exists(setup.Repo));
        Assert.Empty(setup.Leftovers());
    }

    [Fact]
    public async Task Recovery_retires_a_crashed_staging_dir_at_once_and_removes_it_in_the_background()
    {
        await using var setup = await Setup.CreateAsync(files: 60, changes: 6);
        using (var staging = StagingArea.Create(setup.Repo, new StagingOptions { KeepFailedStaging = true }))
        {
            await setup.RsyncAsync(staging);
        }

        Assert.Contains(setup.Leftovers(), l => l.StartsWith(".gentoo.ahm-staging-", StringComparison.Ordinal));
        TreeSwap.Recover(setup.Repo, new StagingOptions { RemoveInBackground = true });

        Assert.DoesNotContain(setup.Leftovers(), l => !l.StartsWith(".gentoo.ahm-retired-", StringComparison.Ordinal));
        await Eventually.TrueAsync(() => !setup.Leftovers().Any(), "the retired staging dir is removed");
        Assert.Equal(V1, (await setup.VerifiedVersionAsync(setup.Repo)).Generated);
    }

    [Fact]
    public async Task Rsync_killed_at_several_points_leaves_the_old_verified_tree_and_the_next_sync_succeeds()
    {
        await using var setup = await Setup.CreateAsync(files: 60, changes: 6);
        var upstream = setup.Temp.Combine("other-upstream");
        var key = await TestSigningKey.SharedAsync();
        await GentooTree.CreateAsync(upstream, new GentooTreeOptions { Files = 150, Seed = 77, Timestamp = V2 }, key);
        var total = GentooTree.ListContent(upstream).Count;

        foreach (var fraction in new[] { 0.05, 0.3, 0.6 })
        {
            using (var staging = StagingArea.Create(setup.Repo))
            {
                // Slowed down (40 KB/s of compressed data) so the kill lands mid-transfer; killed with SIGKILL once a fraction of the files arrived.
                var start = new ProcessStartInfo("rsync", [.. PortageRsync.Arguments(upstream, staging.Path, staging.LinkDest).Prepend("--bwlimit=40")])
                {
                    UseShellExecute = false,
                    RedirectStandardOutput = true,
                    RedirectStandardError = true,
                };
                using var rsync = Process.Start(start)!;
                _ = rsync.StandardOutput.ReadToEndAsync();
                var errors = rsync.StandardError.ReadToEndAsync();
                await Eventually.TrueAsync(
                    () => rsync.HasExited || Directory.EnumerateFiles(staging.Path, "*", SearchOption.AllDirectories).Count() >= total * fraction,
                    $"rsync to copy {fraction:P0} of the files");
                Assert.False(rsync.HasExited, "rsync finished before it could be killed: " + (rsync.HasExited ? await errors : string.Empty));
                rsync.Kill(entireProcessTree: true); // SIGKILL to rsync's sender, receiver and generator alike
                await rsync.WaitForExitAsync();
                Assert.False((await new ManifestTreeVerifier().VerifyAsync(staging.Path, setup.Keyring)).Succeeded);
            }

            Assert.Equal(V1, (await setup.VerifiedVersionAsync(setup.Repo)).Generated);
            Assert.Empty(setup.Leftovers());
        }

        using (var staging = StagingArea.Create(setup.Repo))
        {
            await setup.RsyncAsync(staging, upstream);
            Assert.True((await new ManifestTreeVerifier().VerifyAsync(staging.Path, setup.Keyring)).Succeeded);
            staging.Commit();
        }

        Assert.Equal(V2, (await setup.VerifiedVersionAsync(setup.Repo)).Generated);
    }
}
