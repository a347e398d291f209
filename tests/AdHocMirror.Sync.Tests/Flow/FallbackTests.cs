using AdHocMirror.Hosting;
using AdHocMirror.Sync.Tests.Support;
using AdHocMirror.Testing;

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

namespace AdHocMirror.Sync.Tests.Flow;

/// <summary>Failures on the way: a mirror dying mid-transfer, the coordinator away, postsync hooks.</summary>
public sealed class FallbackTests
{
    [Fact]
    public async Task Mirror_killed_mid_transfer_is_reported_unreachable_and_the_next_candidate_is_used()
    {
        await using var world = await SyncWorld.CreateAsync();
        var dying = await world.AddMirrorAsync(2, "v2", SyncWorld.V2, bandwidthKiBps: 16);
        var good = await world.AddMirrorAsync(3, "v2", SyncWorld.V2);
        var parent = Path.GetDirectoryName(world.Repository)!;
        Directory.CreateDirectory(parent);

        var sync = world.SyncAsync("--probe", "0");
        await Eventually.TrueAsync(
            () => Directory.GetDirectories(parent, ".gentoo.ahm-staging-*").Any(s => Directory.EnumerateFileSystemEntries(s).Any()),
            "the transfer from the slow mirror has started");
        await dying.KillAsync();
        var run = await sync;

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(dying.Uri, run.Attempts[0].GetProperty("uri").GetString());
        Assert.Equal("unreachable", run.Attempts[0].GetProperty("outcome").GetString());
        Assert.True(run.Attempts[0].GetProperty("reported").GetBoolean());
        Assert.Equal(good.Uri, run.Source);
        Assert.Equal(SyncWorld.V2, (await world.VerifyRepositoryAsync()).Generated);
    }

    [Fact]
    public async Task Mirror_slower_than_the_transfer_timeout_is_reported_as_timeout_and_the_next_candidate_is_used()
    {
        await using var world = await SyncWorld.CreateAsync();
        // 1 KiB/s: the slow mirror needs over a minute for the tree, while the good one needs a few seconds even on a
        // machine at load 100 (where a 2 s limit timed out every source).
        var slow = await world.AddMirrorAsync(2, "v2", SyncWorld.V2, bandwidthKiBps: 1);
        var good = await world.AddMirrorAsync(3, "v2", SyncWorld.V2);

        var run = await world.SyncAsync("--probe", "0", "--transfer-timeout", "20s");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(slow.Uri, run.Attempts[0].GetProperty("uri").GetString());
        Assert.Equal("timeout", run.Attempts[0].GetProperty("outcome").GetString());
        Assert.Equal(good.Uri, run.Source);
        Assert.Equal(SyncWorld.V2, (await world.VerifyRepositoryAsync()).Generated);
    }

    [Fact]
    public async Task Coordinator_down_syncs_from_the_official_mirror_directly_and_says_so()
    {
        await using var world = await SyncWorld.CreateAsync(coordinator: false);
        await world.InstallAsync("v1");
        var nobody = $"http://127.0.0.1:{FreePort.Next()}";

        var run = await world.SyncAsync("--coordinator", nobody);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(world.Official!.Uri, run.Source);
        Assert.False(run.Result.GetProperty("coordinator_reachable").GetBoolean());
        Assert.Contains("unreachable", run.Stderr);
        Assert.Contains("official mirrors directly", run.Stderr);
        Assert.Equal(SyncWorld.V2, (await world.VerifyRepositoryAsync()).Generated);
    }

    [Fact]
    public async Task No_reachable_source_exits_5_and_keeps_the_tree()
    {
        await using var world = await SyncWorld.CreateAsync(coordinator: false, officialTree: null);
        await world.InstallAsync("v1");

        var run = await world.SyncAsync("--no-coordinator", "--official", $"rsync://127.0.0.1:{FreePort.Next()}/gentoo-portage");

        Assert.Equal(ExitCodes.NoUsableSource, run.ExitCode);
        Assert.Equal("unreachable", Assert.Single(run.Attempts).GetProperty("outcome").GetString());
        Assert.Contains("try again", run.Result.GetProperty("message").GetString());
        Assert.Equal(SyncWorld.V1, (await world.VerifyRepositoryAsync()).Generated);
    }

    [Fact]
    public async Task Postsync_hooks_run_with_repository_name_uri_and_path_as_emerge_does()
    {
        await using var world = await SyncWorld.CreateAsync(coordinator: false);
        var hooks = world.Dir.Combine("postsync.d");
        Directory.CreateDirectory(hooks);
        var record = world.Dir.Combine("hook-ran");
        await ExecutableHookAsync(hooks, "10-record", $"#!/bin/sh\necho \"$1 $2 $3\" > {record}\n");
        await File.WriteAllTextAsync(Path.Combine(hooks, "20-not-executable"), "#!/bin/sh\nexit 1\n");

        var run = await world.SyncAsync("--no-coordinator");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal($"gentoo {world.Official!.Uri} {world.Repository}", (await File.ReadAllTextAsync(record)).Trim());
        Assert.Empty(run.Result.GetProperty("hook_failures").EnumerateArray());
    }

    [Fact]
    public async Task No_postsync_hooks_leaves_the_hooks_to_the_caller_and_is_documented_in_help()
    {
        await using var world = await SyncWorld.CreateAsync(coordinator: false);
        var hooks = world.Dir.Combine("postsync.d");
        Directory.CreateDirectory(hooks);
        var record = world.Dir.Combine("hook-ran");
        await ExecutableHookAsync(hooks, "10-record", $"#!/bin/sh\necho ran >> {record}\n");

        var run = await world.SyncAsync("--no-coordinator", "--no-postsync-hooks");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("synced", run.Status);
        Assert.False(File.Exists(record), "a hook ran although the caller runs them");

        using var help = new StringWriter();
        Assert.Equal(0, await AdHocMirror.Sync.Cli.SyncCommandLine.InvokeAsync(["--help"], help, new StringWriter()));
        Assert.Contains("--no-postsync-hooks", help.ToString(), StringComparison.Ordinal);
        Assert.Contains("--rsync-opt", help.ToString(), StringComparison.Ordinal);
    }

    private static async Task ExecutableHookAsync(string hooks, string name, string script)
    {
        var hook = Path.Combine(hooks, name);
        await File.WriteAllTextAsync(hook, script);
        File.SetUnixFileMode(hook, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }
}
