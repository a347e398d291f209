using AdHocMirror.Contracts;
using AdHocMirror.Contracts.V1;
using AdHocMirror.Daemon.Enrolment;
using AdHocMirror.Daemon.Session;
using Grpc.Core;
using AdHocMirror.Daemon.Status;
using AdHocMirror.Daemon.Tests.Support;
using AdHocMirror.Hosting;
using AdHocMirror.Testing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace AdHocMirror.Daemon.Tests.Session;

/// <summary>The daemon finds its way back to the coordinator: absent at start, or our session taken over.</summary>
public sealed class SessionRecoveryTests
{
    [Fact]
    public async Task Coordinator_away_at_start_the_daemon_serves_backs_off_and_logs_in_when_it_appears()
    {
        await using var world = await MirrorWorld.StartAsync(new() { ["protocols"] = "rsync" }, startDaemon: false);
        await world.Coordinator.StopAsync();
        await world.StartDaemonAsync();

        await Eventually.TrueAsync(() => world.State.Status.Session == "unreachable", "the daemon finds the coordinator away");
        // Serving does not wait for the coordinator.
        Assert.True(world.State.Status.Rsync!.Serving);
        await world.Coordinator.StartAsync();
        await world.OnlineAsync(OfficialUpstream.FirstVersion);
        Assert.True(world.Log.Contains("retrying in"));
    }

    [Fact]
    public async Task A_superseded_session_is_noticed_and_the_daemon_logs_in_again()
    {
        await using var world = await MirrorWorld.StartAsync(new() { ["protocols"] = "rsync" });
        await world.OnlineAsync();
        var first = world.State.Session!.Id;

        // Someone logs in with our key (say, a copy of the state directory): that login supersedes ours.
        var key = new KeyFile(world.Options.KeyFile).Load()!;
        using (var channel = GrpcChannels.Create(world.Coordinator.Url))
        {
            var login = new LoginRequest
            {
                Endpoints = new MirrorEndpoints { RsyncUri = world.Options.RsyncUri, PingAddress = world.Options.PingAddress },
                Limits = new LoadLimits { MaxClients = 1 },
            };
            var usurper = await new SessionsClient(channel).LoginAsync(login, CoordinatorConnection.Call(key));
            Assert.NotEqual(first, usurper.SessionId);

            // Our daemon cannot answer pings for a session it does not hold, hears nothing, asks, and logs in again.
            await Eventually.TrueAsync(() => world.State.Session is { } s && s.Id != first && s.Id != usurper.SessionId, "the daemon logs in again");
        }

        await world.OnlineAsync();
        Assert.True(world.Log.Contains("Session lost"));
    }
}
