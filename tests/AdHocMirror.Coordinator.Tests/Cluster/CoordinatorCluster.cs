using System.Net;
using AdHocMirror.Contracts;
using AdHocMirror.Contracts.V1;
using AdHocMirror.Coordinator.Hosting;
using AdHocMirror.Coordinator.Mirrors;
using AdHocMirror.Coordinator.Sessions;
using AdHocMirror.Coordinator.Tests.Matching;
using AdHocMirror.Coordinator.Tests.Support;
using AdHocMirror.Testing;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AdHocMirror.Coordinator.Tests.Cluster;

/// <summary>
/// Several real coordinators in this process on one PostgreSQL database, on the real clock with short
/// intervals (heartbeat 250 ms, dead after 2 s, changes read every 100 ms, pings every 3 s), and fake
/// mirrors on loopback addresses that the swarm's overrides place in cities.
/// </summary>
public sealed class CoordinatorCluster : IAsyncDisposable
{
    public static readonly TimeSpan PingInterval = TimeSpan.FromSeconds(3);
    private readonly PostgresServer _server;
    private readonly string _connectionString;
    private readonly TimeSpan _leaseTtl;
    private readonly TimeSpan _deadAfter;
    private readonly List<FakeMirror> _mirrors = [];
    private readonly Action<CoordinatorOptions>? _configure;
    private readonly Action<IServiceCollection>? _replace;

    private CoordinatorCluster(PostgresServer server, string connectionString, TimeSpan leaseTtl, TimeSpan deadAfter, Action<CoordinatorOptions>? configure, Action<IServiceCollection>? replace)
    {
        _server = server;
        _connectionString = connectionString;
        _leaseTtl = leaseTtl;
        _deadAfter = deadAfter;
        _configure = configure;
        _replace = replace;
    }

    public List<Node> Nodes { get; } = [];

    /// <summary>The shared database, with the password, for tests that write to it behind the coordinators' backs.</summary>
    public string ConnectionString => _server.WithPassword(_connectionString);

    /// <param name="deadAfter">How long a silent coordinator counts as live (2 s unless given): longer where
    /// a test needs the views to stay put on a busy machine.</param>
    /// <param name="configure">Last word on each node's options (privacy tests turn the budget back on).</param>
    /// <param name="replace">Last word on each node's services (e.g. a moved clock for the reveal windows only).</param>
    public static async Task<CoordinatorCluster> StartAsync(
        PostgresServer server, int nodes, TimeSpan? leaseTtl = null, TimeSpan? deadAfter = null, Action<CoordinatorOptions>? configure = null, Action<IServiceCollection>? replace = null)
    {
        Skip.If(PostgresServer.SkipReason is not null, PostgresServer.SkipReason);
        var cluster = new CoordinatorCluster(server, await server.CreateDatabaseAsync(), leaseTtl ?? TimeSpan.FromMinutes(1), deadAfter ?? TimeSpan.FromSeconds(2), configure, replace);
        for (var i = 0; i < nodes; i++)
        {
            await cluster.AddNodeAsync();
        }

        return cluster;
    }

    public async Task<Node> AddNodeAsync()
    {
        var dir = new TempDir("ahm-cluster");
        var options = new CoordinatorOptions
        {
            Listen = "127.0.0.1:0",
            AdminListen = "127.0.0.1:0",
            MetricsListen = "off",
            DataDir = dir.Path,
            Store = _connectionString,
            StorePasswordFile = _server.PasswordFile,
        };
        options.Keys.RegistrationsPerNetworkPerHour = 10_000;
        // Not about privacy: one address asks for many, as the fixture of the single coordinator allows.
        options.Privacy.RevealBudget = 0;
        options.Privacy.FindMirrorPerMinute = 100_000;
        options.Keys.MaxMirrorsPerAddress = 10_000;
        options.Sessions.PingAddressPolicy = PingAddressPolicy.Any;
        options.Pings.Interval = PingInterval;
        options.Pings.Timeout = TimeSpan.FromSeconds(1);
        options.Pings.FailuresToOffline = 2;
        options.Cluster.HeartbeatInterval = TimeSpan.FromMilliseconds(250);
        options.Cluster.DeadAfter = _deadAfter;
        options.Cluster.ChangePollInterval = TimeSpan.FromMilliseconds(100);
        options.Matching.LeaseTtl = _leaseTtl;
        options.Geo.Overrides.AddRange(Swarm.Places);
        options.Geo.Overrides.AddRange(Swarm.ClientPlaces);
        options.Matching.Official = [new() { Name = "official-rsync", Uri = "rsync://127.0.0.250/gentoo-portage", Protocol = Protocol.Rsync, Latitude = -45, Longitude = 170 }];
        _configure?.Invoke(options);
        var host = CoordinatorHost.Build(options, logging => logging.SetMinimumLevel(LogLevel.Warning), TimeProvider.System, replace: _replace);
        await host.StartAsync();
        var node = new Node(host, dir);
        lock (Nodes)
        {
            // Tests may start nodes at once.
            Nodes.Add(node);
        }

        return node;
    }

    /// <summary>Registers at <paramref name="registerAt"/>, logs in at <paramref name="loginAt"/> (once that one knows the key) a mirror on 127.0.0.<paramref name="host"/>.</summary>
    public async Task<(RegisterReply Key, FakeMirror Mirror, string SessionId)> AddMirrorAsync(Node registerAt, Node loginAt, int host, uint maxClients = 10)
    {
        var address = IPAddress.Parse($"127.0.0.{host}");
        var mirror = new FakeMirror(address);
        await mirror.StartAsync();
        _mirrors.Add(mirror);
        var key = await registerAt.Registry.RegisterAsync(new RegisterRequest { Software = "test" });
        var login = new LoginRequest
        {
            Endpoints = new MirrorEndpoints { PingAddress = $"{address}:{mirror.Port}", RsyncUri = $"rsync://{address}:8873/gentoo-portage" },
            Limits = new LoadLimits { MaxClients = maxClients },
            Versions = { CoordinatorFixture.Version(Protocol.Rsync, Swarm.V2) },
            Software = "test",
        };
        mirror.Versions.AddRange(login.Versions);
        LoginReply? reply = null;
        await Eventually.TrueAsync(
            async () => (reply = await loginAt.Sessions.LoginAsync(login, CoordinatorFixture.With(key))) is not null,
            "the coordinator logged in at knows the key registered at another", TimeSpan.FromSeconds(5));
        var opened = reply!;
        mirror.Accept(opened);
        return (key, mirror, opened.SessionId);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in Nodes)
        {
            await node.DisposeAsync();
        }

        foreach (var mirror in _mirrors)
        {
            await mirror.DisposeAsync();
        }
    }

    public sealed class Node : IAsyncDisposable
    {
        private readonly TempDir _dir;
        private bool _stopped;

        public Node(IHost host, TempDir dir)
        {
            Host = host;
            _dir = dir;
            var listeners = host.Services.GetRequiredService<CoordinatorListeners>();
            Channel = GrpcChannels.Create($"http://127.0.0.1:{listeners.Public.Server.Port}");
            AdminChannel = GrpcChannels.Create($"http://127.0.0.1:{listeners.Admin.Server.Port}");
            Admin = new AdminClient(AdminChannel.WithBearer(File.ReadAllText(Path.Combine(dir.Path, Coordinator.Admin.AdminToken.FileName)).Trim()));
        }

        public IHost Host { get; }

        public GrpcChannel Channel { get; }

        public GrpcChannel AdminChannel { get; }

        public AdminClient Admin { get; }

        public RegistryClient Registry => new(Channel);

        public SessionsClient Sessions => new(Channel);

        public MatchingClient Matching => new(Channel);

        public MirrorDirectory Directory => Host.Services.GetRequiredService<MirrorDirectory>();

        public T Get<T>()
            where T : notnull => Host.Services.GetRequiredService<T>();

        /// <summary>Whether this coordinator would offer the mirror of <paramref name="keyId"/> (online in its directory).</summary>
        public bool Offers(string keyId) => Directory.Find(keyId)?.IsEligible == true;

        public async Task StopAsync()
        {
            if (!_stopped)
            {
                _stopped = true;
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
                await Host.StopAsync(cts.Token);
            }
        }

        public async ValueTask DisposeAsync()
        {
            Channel.Dispose();
            AdminChannel.Dispose();
            await StopAsync();
            Host.Dispose();
            _dir.Dispose();
        }
    }
}
