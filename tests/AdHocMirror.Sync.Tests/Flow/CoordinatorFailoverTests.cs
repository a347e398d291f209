using AdHocMirror.Hosting;
using AdHocMirror.Sync.Tests.Support;
using AdHocMirror.Testing;

namespace AdHocMirror.Sync.Tests.Flow;

/// <summary>Several coordinator URLs: a dead first one is passed over, FindMirror and ReportSync go to the live one.</summary>
public sealed class CoordinatorFailoverTests
{
    [Fact]
    public async Task With_the_first_coordinator_dead_the_sync_goes_through_the_second_and_reports_there()
    {
        await using var world = await SyncWorld.CreateAsync();
        var mirror = await world.AddMirrorAsync(2, "v2", SyncWorld.V2);
        var dead = $"http://127.0.0.1:{FreePort.Next()}";

        var run = await world.SyncAsync("--coordinator", dead, "--coordinator", world.CoordinatorAddress!);

        Assert.True(run.ExitCode == ExitCodes.Success, run.ToString());
        Assert.Equal(mirror.Uri, run.Source);
        Assert.True(run.Result.GetProperty("coordinator_reachable").GetBoolean(), run.ToString());
        Assert.True(Assert.Single(run.Attempts).GetProperty("reported").GetBoolean(), "ReportSync reached the live coordinator");
        Assert.Equal(SyncWorld.V2, (await world.VerifyRepositoryAsync()).Generated);
    }

    [Fact]
    public async Task The_ahm_sync_program_given_a_list_with_a_dead_first_coordinator_syncs_from_the_mirror()
    {
        await using var world = await SyncWorld.CreateAsync();
        var mirror = await world.AddMirrorAsync(2, "v2", SyncWorld.V2);
        var dead = $"http://127.0.0.1:{FreePort.Next()}";

        // One value holding both, as repos.conf's sync-uri does.
        var run = await world.SyncProcessAsync("--coordinator", $"{dead} {world.CoordinatorAddress}");

        Assert.True(run.ExitCode == ExitCodes.Success, run.ToString());
        Assert.Equal(mirror.Uri, run.Source);
        Assert.True(Assert.Single(run.Attempts).GetProperty("reported").GetBoolean(), run.ToString());
    }

    [Fact]
    public async Task A_first_coordinator_that_accepts_connections_but_never_answers_is_passed_over_within_the_coordinator_timeout()
    {
        await using var world = await SyncWorld.CreateAsync();
        var mirror = await world.AddMirrorAsync(2, "v2", SyncWorld.V2);
        // A hung coordinator: the kernel accepts its connections, nothing ever answers. It costs the first half of the
        // coordinator timeout; the second half must hold a new connection and an answer from the live one, which at
        // 6 s (3 s each) a machine beside stress-ng did not always manage.
        var hung = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        hung.Start();
        try
        {
            var run = await world.SyncAsync(
                "--coordinator", $"http://127.0.0.1:{((System.Net.IPEndPoint)hung.LocalEndpoint).Port}", "--coordinator", world.CoordinatorAddress!, "--coordinator-timeout", "20s");

            Assert.True(run.ExitCode == ExitCodes.Success, run.ToString());
            Assert.Equal(mirror.Uri, run.Source);
            Assert.True(Assert.Single(run.Attempts).GetProperty("reported").GetBoolean(), run.ToString());
        }
        finally
        {
            hung.Stop();
        }
    }

    [Fact]
    public async Task With_every_coordinator_dead_the_sync_falls_back_to_the_official_mirror_saying_so()
    {
        await using var world = await SyncWorld.CreateAsync(coordinator: false);
        var (a, b) = ($"http://127.0.0.1:{FreePort.Next()}", $"http://127.0.0.1:{FreePort.Next()}");

        var run = await world.SyncAsync("--coordinator", a, "--coordinator", b);

        Assert.True(run.ExitCode == ExitCodes.Success, run.ToString());
        Assert.Equal(world.Official!.Uri, run.Source);
        Assert.False(run.Result.GetProperty("coordinator_reachable").GetBoolean());
        Assert.Contains($"{a} {b}", run.Stderr, StringComparison.Ordinal);
    }
}
