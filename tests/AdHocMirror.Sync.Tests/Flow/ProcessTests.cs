using System.Diagnostics;
using AdHocMirror.Hosting;
using AdHocMirror.Sync.Apply;
using AdHocMirror.Sync.Tests.Support;
using AdHocMirror.Testing;
using AdHocMirror.Tree.Apply;

namespace AdHocMirror.Sync.Tests.Flow;

/// <summary>The built ahm-sync as its own process: the lock, and kill -9 at several moments.</summary>
public sealed class ProcessTests
{
    [Fact]
    public async Task Second_sync_of_the_same_repository_is_refused_by_the_lock_with_exit_7()
    {
        await using var world = await SyncWorld.CreateAsync(coordinator: false);
        await world.InstallAsync("v1");
        using (var held = SyncLock.TryAcquire(world.Repository))
        {
            Assert.NotNull(held);
            var run = await world.SyncProcessAsync("--no-coordinator");

            Assert.Equal(ExitCodes.Locked, run.ExitCode);
            Assert.Equal("locked", run.Status);
            Assert.Contains("wait for it to finish", run.Result.GetProperty("message").GetString());
        }

        Assert.Equal(SyncWorld.V1, (await world.VerifyRepositoryAsync()).Generated);
        var after = await world.SyncProcessAsync("--no-coordinator");
        Assert.True(after.ExitCode == 0, after.ToString());
    }

    public enum Moment
    {
        Started,
        StagingCreated,
        Transferring,
        Verifying,
    }

    [Fact]
    public async Task Kill_9_at_any_moment_leaves_the_old_or_the_new_verified_tree()
    {
        await using var world = await SyncWorld.CreateAsync(coordinator: false, officialTree: null);
        await world.InstallAsync("v1");
        var slow = await world.ServeAsync("127.0.0.9", await world.CopyOfAsync("v2"), bandwidthKiBps: 24);
        var parent = Path.GetDirectoryName(world.Repository)!;
        string[] arguments = ["--no-coordinator", "--official", slow.Uri, "--quiet"];

        var spare = Path.Combine(parent, ".gentoo.ahm-spare");
        foreach (var moment in Enum.GetValues<Moment>())
        {
            // Every run starts from a spare (as every sync after the first incremental does), so each moment also kills
            // a staging dir made from it.
            if (!Directory.Exists(spare))
            {
                await SyncWorld.CopyTreeAsync(world.TreeV1, spare);
            }

            using var process = world.StartProcess(arguments);
            _ = process.StandardOutput.ReadToEndAsync();
            _ = process.StandardError.ReadToEndAsync();
            var children = new HashSet<int>();
            await UntilAsync(process, () =>
            {
                children.UnionWith(ChildrenOf(process.Id));
                var staging = Directory.GetDirectories(parent, ".gentoo.ahm-staging-*");
                return moment switch
                {
                    Moment.Started => File.Exists(SyncLock.PathFor(world.Repository)),
                    Moment.StagingCreated => staging.Length > 0,
                    Moment.Transferring => staging.Any(s => Directory.EnumerateFileSystemEntries(s, "*", SearchOption.AllDirectories).Skip(50).Any()),
                    _ => staging.Length > 0 && children.Count > 0 && !ChildrenOf(process.Id).Any(c => CommandOf(c) == "rsync"),
                };
            });
            children.UnionWith(ChildrenOf(process.Id));
            Assert.True(moment == Moment.Verifying || !process.HasExited, $"the sync ended before {moment}");
            KillNine(process.Id);
            foreach (var child in children)
            {
                KillNine(child);
            }

            await process.WaitForExitAsync();
            TreeSwap.Recover(world.Repository, new StagingOptions { KeepSpare = true });
            Assert.DoesNotContain(Directory.GetFileSystemEntries(parent, ".gentoo.ahm-*"), p => p.Contains(".ahm-staging-", StringComparison.Ordinal));
            var version = (await world.VerifyRepositoryAsync()).Generated;
            Assert.True(version == SyncWorld.V1 || version == SyncWorld.V2, $"after kill -9 at {moment}: {version}");
        }

        var finish = await world.SyncProcessAsync(arguments[..^1]);
        Assert.True(finish.ExitCode == 0, finish.ToString());
        Assert.Equal(SyncWorld.V2, (await world.VerifyRepositoryAsync()).Generated);
        // The old tree is kept as the spare (being relinked in the background a moment under a refreshing name);
        // anything else is retired at once and removed in the background.
        Assert.DoesNotContain(Directory.GetFileSystemEntries(parent, ".gentoo.ahm-*"), p => !p.EndsWith(".ahm-lock", StringComparison.Ordinal) && !p.EndsWith(".ahm-spare", StringComparison.Ordinal)
            && !p.Contains(".ahm-retired-", StringComparison.Ordinal) && !p.Contains(".ahm-refresh", StringComparison.Ordinal));
        await Eventually.TrueAsync(
            () => !Directory.GetFileSystemEntries(parent, ".gentoo.ahm-*").Any(p => !p.EndsWith(".ahm-lock", StringComparison.Ordinal) && !p.EndsWith(".ahm-spare", StringComparison.Ordinal)),
            "leftovers are removed in the background");
    }

    /// <summary>Polls tightly (the verification window is short) until the condition holds or the process ends.</summary>
    private static async Task UntilAsync(Process process, Func<bool> condition)
    {
        var deadline = Stopwatch.StartNew();
        while (!process.HasExited && !condition())
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(60), "the sync process neither reached the moment nor ended");
            await Task.Delay(2);
        }
    }

    private static IEnumerable<int> ChildrenOf(int pid)
    {
        try
        {
            return Directory.GetDirectories($"/proc/{pid}/task")
                .SelectMany(t => File.ReadAllText(Path.Combine(t, "children")).Split(' ', StringSplitOptions.RemoveEmptyEntries))
                .Select(int.Parse)
                .ToList();
        }
        catch (IOException)
        {
            return [];
        }
        catch (UnauthorizedAccessException)
        {
            return [];
        }
    }

    private static string CommandOf(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/comm").Trim();
        }
        catch (IOException)
        {
            return string.Empty;
        }
    }

    private static void KillNine(int pid)
    {
        try
        {
            Process.GetProcessById(pid).Kill();
        }
        catch (ArgumentException)
        {
        }
        catch (InvalidOperationException)
        {
        }
    }
}
