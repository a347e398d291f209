using System.Diagnostics;
using AdHocMirror.Contracts.V1;
using AdHocMirror.Daemon.Tests.Support;
using AdHocMirror.Testing;

namespace AdHocMirror.Daemon.Tests.Session;

/// <summary>
/// Real <c>ahm-coordinator serve</c> processes on one PostgreSQL database and a daemon given both: kill -9 of the
/// one it logged in at, and the daemon goes on at the other with the same session.
/// </summary>
public sealed class CoordinatorKillTests(PostgresServer database, Xunit.Abstractions.ITestOutputHelper output) : IClassFixture<PostgresServer>
{
    [SkippableFact]
    public async Task Kill_9_of_the_coordinator_logged_in_at_and_the_daemon_keeps_its_session_at_the_other_process()
    {
        Skip.If(PostgresServer.SkipReason is not null, PostgresServer.SkipReason);
        var name = (await database.CreateDatabaseAsync()).Split(';').Single(p => p.StartsWith("Database=", StringComparison.Ordinal))["Database=".Length..];
        await using var world = await MirrorWorld.StartAsync(new() { ["protocols"] = "rsync" }, startDaemon: false);
        using var dirs = new TempDir("ahm-coordinators");
        var nodes = new List<(Process Process, string Url, AdminClient Admin, GrpcChannel Channel)>();
        try
        {
            for (var i = 0; i < 2; i++)
            {
                var (port, adminPort, dir) = (FreePort.Next(), FreePort.Next(), dirs.Combine($"c{i}"));
                Directory.CreateDirectory(dir);
                var process = CoordinatorProgram.StartServe(
                [
                    "--listen", $"127.0.0.1:{port}", "--admin-listen", $"127.0.0.1:{adminPort}", "--metrics-listen", "off", "--data-dir", dir,
                    "--store", $"postgres://{PostgresServer.User}@127.0.0.1:{database.Port}/{name}", "--store-password-file", database.PasswordFile,
                    "--ping-interval", "3s", "--ping-timeout", "1s", "--ping-failures", "2", "--ping-address", "any",
                    "--heartbeat-interval", "250ms", "--coordinator-timeout", "2s", "--change-poll-interval", "100ms",
                ]);
                var token = Path.Combine(dir, "admin.token");
                await Eventually.TrueAsync(() => File.Exists(token) && File.ReadAllText(token).Trim().Length >= 64, "the admin token", TimeSpan.FromSeconds(60));
                var channel = GrpcChannels.Create($"http://127.0.0.1:{adminPort}");
                nodes.Add((process, $"http://127.0.0.1:{port}", new AdminClient(channel.WithBearer(File.ReadAllText(token).Trim())), channel));
            }

            world.Options.Coordinators = ServiceAddresses.Parse([.. nodes.Select(n => n.Url)]);
            await world.StartDaemonAsync();
            await OnlineAtAsync(nodes[0].Admin, world, OfficialUpstream.FirstVersion);
            await OnlineAtAsync(nodes[1].Admin, world, OfficialUpstream.FirstVersion);
            var session = world.State.Session!.Id;

            nodes[0].Process.Kill();
            await nodes[0].Process.WaitForExitAsync();
            var killed = Stopwatch.StartNew();
            await world.Upstream.AdvanceAsync(TimeSpan.FromHours(1), seed: 29);
            await OnlineAtAsync(nodes[1].Admin, world, world.Upstream.Version);
            output.WriteLine($"new version accepted by the surviving coordinator {killed.Elapsed.TotalSeconds:0.0} s after kill -9");

            Assert.Equal(session, world.State.Session?.Id);
            Assert.Equal(1, world.Log.Lines.Count(l => l.Contains("Logged in as", StringComparison.Ordinal)));
            Assert.False(world.Log.Contains("Session lost"), string.Join('\n', world.Log.Lines));
            var pings = world.State.Status.Pings;
            await Eventually.TrueAsync(() => world.State.Status.Pings > pings, "pinged by the survivor", TimeSpan.FromSeconds(10));
        }
        finally
        {
            foreach (var (process, _, _, channel) in nodes)
            {
                channel.Dispose();
                if (!process.HasExited)
                {
                    process.Kill();
                    await process.WaitForExitAsync();
                }

                process.Dispose();
            }
        }
    }

    private static async Task OnlineAtAsync(AdminClient admin, MirrorWorld world, DateTimeOffset version) =>
        await Eventually.TrueAsync(
            async () => world.KeyId is { } keyId
                && (await admin.ListMirrorsAsync(new ListMirrorsRequest())).Mirrors.FirstOrDefault(m => m.KeyId == keyId) is { State: MirrorState.Online } m
                && m.Versions.All(v => v.Generated.ToDateTimeOffset() == version) && m.Versions.Count == 1,
            $"the mirror online at {version:u} (log: {string.Join(" | ", world.Log.Lines.TakeLast(6))})", TimeSpan.FromSeconds(60));
}
