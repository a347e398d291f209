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

    [Fact]
    public async Task Servers_that_die_are_restarted_with_the_bandwidth_limit_in_place()
    {
        await using var world = await MirrorWorld.StartAsync(new() { ["bandwidth_limit"] = "512" });
        await world.OnlineAsync(OfficialUpstream.FirstVersion);
        // A server seen at the instant it exits (say, a bind that failed on a loaded machine) has an empty command
        // line until the daemon starts the next one: the check is on the servers that run, whichever they are.
        await Eventually.TrueAsync(() => world.Serving.Rsync?.Pid is { } r && HasArgument(r, "--bwlimit=512") && world.Serving.Git?.Pid is { } g && HasArgument(g, "--max-connections=4"), "both servers run with their limits");
        var rsyncd = world.Serving.Rsync!.Pid!.Value;
        var gitDaemon = world.Serving.Git!.Pid!.Value;

        System.Diagnostics.Process.GetProcessById(rsyncd).Kill();
        System.Diagnostics.Process.GetProcessById(gitDaemon).Kill();

        await Eventually.TrueAsync(() => world.Serving.Rsync!.Pid is { } p && p != rsyncd && world.Serving.Git!.Pid is { } g && g != gitDaemon, "both servers restarted");
        var client = Path.Combine(world.Root, "after-restart");
        Directory.CreateDirectory(client);
        await Eventually.TrueAsync(async () => (await ExternalProcess.RunAsync("rsync", PortageRsync.Arguments(world.Options.RsyncUri, client, null))).ExitCode == 0, "rsync serves again");
        await Eventually.TrueAsync(async () => (await ExternalProcess.RunAsync("git", ["ls-remote", world.Options.GitUri])).ExitCode == 0, "git serves again");
        Assert.True(world.Log.Contains("restarting in"));
        await Eventually.TrueAsync(() => world.Serving.Rsync!.Pid is { } r && r != rsyncd && HasArgument(r, "--bwlimit=512"), "the restarted rsync daemon keeps the bandwidth limit");
    }

    private static bool HasArgument(int pid, string argument)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Split('\0').Contains(argument);
        }
        catch (IOException)
        {
            return false; // gone between the look and the read
        }
    }
}
