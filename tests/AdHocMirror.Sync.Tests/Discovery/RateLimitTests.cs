using AdHocMirror.Contracts.V1;
using AdHocMirror.Sync.Tests.Support;
using AdHocMirror.Testing;

namespace AdHocMirror.Sync.Tests.Discovery;

/// <summary>A coordinator that rate-limits this network: ahm-sync waits as told when that fits its coordinator timeout, else falls back saying why.</summary>
public sealed class RateLimitTests
{
    [Fact]
    public async Task A_wait_longer_than_the_coordinator_timeout_falls_back_to_the_official_mirrors_saying_why()
    {
        await using var world = await SyncWorld.CreateAsync(configure: o => o.Privacy.FindMirrorPerMinute = 1);
        await world.AddMirrorAsync(2, "v2", SyncWorld.V2);
        await world.InstallAsync("v1");
        await world.Matching!.FindMirrorAsync(UpToDate()); // the network's one call this minute

        var run = await world.SyncAsync("--coordinator-timeout", "5s");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(world.Official!.Uri, run.Source);
        // The stock channels' retry policy waits out grpc-retry-pushback-ms itself; past the deadline the
        // call ends there, and ahm-sync falls back (MirrorDiscovery's own message covers channels without it).
        Assert.Contains("official mirrors directly", run.Stderr);
        Assert.True(world.Metrics["ahm_findmirror_refusals_total{cause=\"rate_limited\"}"] >= 1);
        Assert.Equal(SyncWorld.V2, (await world.VerifyRepositoryAsync()).Generated);
    }

    [Fact]
    public async Task A_short_wait_is_waited_and_the_coordinator_asked_again()
    {
        // 600 a minute: a refused call is told to wait 100 ms.
        await using var world = await SyncWorld.CreateAsync(configure: o => o.Privacy.FindMirrorPerMinute = 600);
        var mirror = await world.AddMirrorAsync(2, "v2", SyncWorld.V2);
        await world.InstallAsync("v1");
        for (var i = 0; i < 600; i++)
        {
            await world.Matching!.FindMirrorAsync(UpToDate());
        }

        var sync = world.SyncAsync("--probe", "0");
        await Eventually.TrueAsync(
            () =>
            {
                // Once ahm-sync has been refused, the coordinator's clock moves on, so that waiting is rewarded.
                if (world.Metrics.GetValueOrDefault("ahm_findmirror_refusals_total{cause=\"rate_limited\"}") > 0)
                {
                    world.Clock.Advance(TimeSpan.FromMilliseconds(100));
                }

                return sync.IsCompleted;
            },
            "the sync, after waiting as the coordinator asked");
        var run = await sync;

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(mirror.Uri, run.Source);
        Assert.True(world.Metrics["ahm_findmirror_refusals_total{cause=\"rate_limited\"}"] >= 1, "ahm-sync was refused first");
    }

    private static FindMirrorRequest UpToDate() => new()
    {
        Protocol = Protocol.Rsync,
        Current = SyncWorld.Version(Protocol.Rsync, SyncWorld.V2),
    };
}
