using System.Net.Sockets;
using System.Text;
using AdHocMirror.Daemon.Tests.Support;
using AdHocMirror.Testing;
using AdHocMirror.Tree.Rsync;

namespace AdHocMirror.Daemon.Tests.Serving;

/// <summary>The volunteer's limits hold: rsync's "max connections" refuses clients beyond them, and pings count the busy ones.</summary>
public sealed class ServingLimitsTests
{
    [Fact]
    public async Task Rsync_refuses_clients_beyond_max_clients_and_pings_report_the_active_connections()
    {
        await using var world = await MirrorWorld.StartAsync(new() { ["max_clients"] = "1", ["protocols"] = "rsync" });
        await world.OnlineAsync(OfficialUpstream.FirstVersion);

        // A slow client: it has opened the module (taking the one slot) and then says nothing.
        using var slow = new TcpClient();
        await slow.ConnectAsync("127.0.0.1", world.Options.RsyncPort);
        var stream = slow.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes("@RSYNCD: 31.0\ngentoo-portage\n"));
        var greeting = new byte[256];
        var read = 0;
        await Eventually.TrueAsync(async () =>
        {
            read += await stream.ReadAsync(greeting.AsMemory(read));
            return Encoding.ASCII.GetString(greeting, 0, read).Contains("@RSYNCD: OK", StringComparison.Ordinal);
        }, "the slow client holds the module");

        var refused = await ExternalProcess.RunAsync("rsync", PortageRsync.Arguments(world.Options.RsyncUri, Path.Combine(world.Root, "second"), null));
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("max connections (1) reached", refused.Stderr, StringComparison.Ordinal);

        // The coordinator hears about the busy slot in the next ping.
        Assert.True(world.Serving.ActiveConnections() >= 1);
        await Eventually.TrueAsync(async () => (await world.Coordinator.MirrorAsync(world.KeyId))?.ActiveConnections >= 1, "ping reports the active connection");

        // Once the slow client leaves, the next one is served.
        slow.Close();
        var client = Path.Combine(world.Root, "third");
        Directory.CreateDirectory(client);
        await Eventually.TrueAsync(async () => (await ExternalProcess.RunAsync("rsync", PortageRsync.Arguments(world.Options.RsyncUri, client, null))).ExitCode == 0, "a client is served again");
    }
}
