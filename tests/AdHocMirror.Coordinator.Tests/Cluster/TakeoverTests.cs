using System.Diagnostics;
using System.Globalization;
using AdHocMirror.Contracts;
using AdHocMirror.Contracts.V1;
using AdHocMirror.Coordinator.Tests.Support;
using AdHocMirror.Testing;
using AdHocMirror.Wire;

namespace AdHocMirror.Coordinator.Tests.Cluster;

/// <summary>Pinging is divided and taken over: real coordinator processes on one database, one killed with SIGKILL.</summary>
public sealed class TakeoverTests(PostgresServer server) : IClassFixture<PostgresServer>
{
    private static readonly TimeSpan PingInterval = TimeSpan.FromSeconds(3);

    [SkippableFact]
    public async Task Kill_9_of_the_coordinator_that_pings_a_volunteer_hands_it_to_another_within_two_ping_intervals_and_it_stays_offered()
    {
        Skip.If(PostgresServer.SkipReason is not null, PostgresServer.SkipReason);
        var database = Database(await server.CreateDatabaseAsync());
        using var dirs = new TempDir("ahm-takeover");
        var nodes = new List<(Process Process, int Port, int AdminPort, string Dir)>();
        var channels = new List<GrpcChannel>();
        await using var mirror = new FakeMirror();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                var (port, adminPort, dir) = (FreePort.Next(), FreePort.Next(), dirs.Combine($"c{i}"));
                Directory.CreateDirectory(dir);
                nodes.Add((CoordinatorProgram.StartServe(
                    "--listen", $"127.0.0.1:{port}", "--admin-listen", $"127.0.0.1:{adminPort}", "--metrics-listen", "off", "--data-dir", dir,
                    "--store", $"postgres://{PostgresServer.User}@127.0.0.1:{server.Port}/{database}", "--store-password-file", server.PasswordFile,
                    "--ping-interval", "3s", "--ping-timeout", "1s", "--ping-failures", "2", "--ping-address", "any",
                    "--heartbeat-interval", "250ms", "--coordinator-timeout", "2s", "--change-poll-interval", "100ms"), port, adminPort, dir));
            }

            var admins = new List<AdminClient>();
            foreach (var node in nodes)
            {
                var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{node.AdminPort}");
                channels.Add(channel);
                await Eventually.TrueAsync(() => File.Exists(Path.Combine(node.Dir, "admin.token")), "the admin token", TimeSpan.FromSeconds(60));
                var admin = new AdminClient(channel, (await File.ReadAllTextAsync(Path.Combine(node.Dir, "admin.token"))).Trim());
                await Eventually.TrueAsync(async () => (await admin.GetStatsAsync(new GetStatsRequest())).Coordinators.Count == 3, "three coordinators see each other", TimeSpan.FromSeconds(60));
                admins.Add(admin);
            }

            await mirror.StartAsync();
            var publicChannel = GrpcChannel.ForAddress($"http://127.0.0.1:{nodes[0].Port}");
            channels.Add(publicChannel);
            var key = await new RegistryClient(publicChannel).RegisterAsync(new RegisterRequest { Software = "test" });
            var login = CoordinatorFixture.Login(mirror.Port);
            mirror.SessionSecret = (await new SessionsClient(publicChannel).LoginAsync(login, CoordinatorFixture.With(key))).SessionSecret;
            await Eventually.TrueAsync(
                async () => (await Task.WhenAll(admins.Select(a => a.ListMirrorsAsync(new ListMirrorsRequest { States = { MirrorState.Online } })))).All(r => r.Mirrors.Count == 1),
                "online at all three", TimeSpan.FromSeconds(10));

            // Which one pings it: its heartbeat row counts the session.
            var stats = await admins[0].GetStatsAsync(new GetStatsRequest());
            var pinger = Assert.Single(stats.Coordinators, c => c.Sessions == 1);
            var victim = nodes.FindIndex(n => pinger.AdminAddress.EndsWith(":" + n.AdminPort.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal));
            Assert.True(victim >= 0, $"no node with admin address {pinger.AdminAddress}");

            nodes[victim].Process.Kill(); // SIGKILL: no goodbye, the heartbeat row stays behind
            await nodes[victim].Process.WaitForExitAsync();
            var killed = Stopwatch.StartNew();
            var pingsAtKill = mirror.Pings;
            var survivor = admins[(victim + 1) % 3];
            await Eventually.TrueAsync(
                async () => mirror.Pings > pingsAtKill
                    && (await survivor.GetStatsAsync(new GetStatsRequest())).Coordinators.Any(c => c.Id != pinger.Id && c.Sessions == 1),
                "another coordinator pings the volunteer", PingInterval * 2);
            Assert.True(killed.Elapsed < PingInterval * 2, $"taken over after {killed.Elapsed}");

            // It never left matching at the survivors, and one survivor pings it, about once per interval.
            foreach (var admin in admins.Where((_, i) => i != victim))
            {
                Assert.Single((await admin.ListMirrorsAsync(new ListMirrorsRequest { States = { MirrorState.Online } })).Mirrors);
            }

            var before = mirror.Pings;
            await Task.Delay(PingInterval * 2);
            Assert.InRange(mirror.Pings - before, 1, 3);
            var after = await survivor.GetStatsAsync(new GetStatsRequest());
            Assert.Contains(after.Coordinators, c => c.Id == pinger.Id && !c.Live);
        }
        finally
        {
            foreach (var channel in channels)
            {
                channel.Dispose();
            }

            foreach (var node in nodes)
            {
                if (!node.Process.HasExited)
                {
                    node.Process.Kill();
                    await node.Process.WaitForExitAsync();
                }

                node.Process.Dispose();
            }
        }
    }

    private static string Database(string connectionString) => connectionString.Split(';').Single(p => p.StartsWith("Database=", StringComparison.Ordinal))["Database=".Length..];
}
