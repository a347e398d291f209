using System.Diagnostics;
using AdHocMirror.Contracts;
using AdHocMirror.Contracts.V1;
using AdHocMirror.Coordinator.Tests.Support;
using AdHocMirror.Testing;
using Grpc.Core;

namespace AdHocMirror.Coordinator.Tests.Cluster;

/// <summary>
/// Real <c>ahm-coordinator serve</c> processes on one PostgreSQL database, with short intervals
/// (pings every 3 s, heartbeat 250 ms, dead after 2 s, changes read every 100 ms); all killed on dispose.
/// </summary>
public sealed class CoordinatorProcesses : IAsyncDisposable
{
    /// <summary>
    /// Six seconds, so that "taken over within two ping intervals" measures the design and not the scheduling of
    /// three coordinators and PostgreSQL on a machine loaded 40 deep (at 3 s the takeover test failed there).
    /// </summary>
    public static readonly TimeSpan PingInterval = TimeSpan.FromSeconds(6);
    private readonly TempDir _dirs = new("ahm-coordinators");
    private readonly List<GrpcChannel> _channels = [];

    public List<Node> Nodes { get; } = [];

    /// <summary>The database's name, for reading it directly (psql).</summary>
    public string Database { get; private init; } = string.Empty;

    public static async Task<CoordinatorProcesses> StartAsync(PostgresServer server, int count, params string[] extraArgs)
    {
        var database = (await server.CreateDatabaseAsync()).Split(';').Single(p => p.StartsWith("Database=", StringComparison.Ordinal))["Database=".Length..];
        var processes = new CoordinatorProcesses { Database = database };
        try
        {
            for (var i = 0; i < count; i++)
            {
                var (port, adminPort, dir) = (FreePort.Next(), FreePort.Next(), processes._dirs.Combine($"c{i}"));
                Directory.CreateDirectory(dir);
                var process = CoordinatorProgram.StartServe(
                [
                    "--listen", $"127.0.0.1:{port}", "--admin-listen", $"127.0.0.1:{adminPort}", "--metrics-listen", "off", "--data-dir", dir,
                    "--store", $"postgres://{PostgresServer.User}@127.0.0.1:{server.Port}/{database}", "--store-password-file", server.PasswordFile,
                    "--ping-interval", $"{PingInterval.TotalSeconds:0}s", "--ping-timeout", "1s", "--ping-failures", "2", "--ping-address", "any",
                    "--reveal-budget", "off", "--findmirror-per-minute", "off",
                    "--heartbeat-interval", "250ms", "--coordinator-timeout", "2s", "--change-poll-interval", "100ms", "--registrations-per-hour", "10000",
                    .. extraArgs,
                ]);
                var node = new Node(process, port, adminPort, processes.Channel($"http://127.0.0.1:{port}"), processes.Channel($"http://127.0.0.1:{adminPort}"));
                processes.Nodes.Add(node);
                // The token file appears before its content is written: wait for the whole token.
                await Eventually.TrueAsync(() => File.Exists(Path.Combine(dir, "admin.token")) && File.ReadAllText(Path.Combine(dir, "admin.token")).Trim().Length >= 64, "the admin token", TimeSpan.FromSeconds(60));
                node.Admin = new AdminClient(node.AdminChannel.WithBearer((await File.ReadAllTextAsync(Path.Combine(dir, "admin.token"))).Trim()));
            }

            foreach (var node in processes.Nodes)
            {
                await Eventually.TrueAsync(
                    async () => (await node.Admin!.GetStatsAsync(new GetStatsRequest())).Coordinators.Count(c => c.Live) == count, "the coordinators see each other", TimeSpan.FromSeconds(60));
            }

            return processes;
        }
        catch
        {
            await processes.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var channel in _channels)
        {
            channel.Dispose();
        }

        foreach (var node in Nodes)
        {
            await node.KillAsync();
            node.Process.Dispose();
        }

        _dirs.Dispose();
    }

    private GrpcChannel Channel(string address)
    {
        var channel = GrpcChannels.Create(address);
        _channels.Add(channel);
        return channel;
    }

    public sealed class Node(Process process, int port, int adminPort, GrpcChannel channel, GrpcChannel adminChannel)
    {
        public Process Process { get; } = process;

        public int Port { get; } = port;

        public int AdminPort { get; } = adminPort;

        public GrpcChannel Channel { get; } = channel;

        public GrpcChannel AdminChannel { get; } = adminChannel;

        public AdminClient? Admin { get; set; }

        public RegistryClient Registry => new(Channel);

        public SessionsClient Sessions => new(Channel);

        public MatchingClient Matching => new(Channel);

        /// <summary>SIGKILL: no goodbye, the heartbeat row stays behind.</summary>
        public async Task KillAsync()
        {
            if (!Process.HasExited)
            {
                Process.Kill();
                await Process.WaitForExitAsync();
            }
        }
    }
}
