using AdHocMirror.Contracts;
using AdHocMirror.Contracts.V1;
using AdHocMirror.Coordinator.Hosting;
using AdHocMirror.Coordinator.Mirrors;
using AdHocMirror.Coordinator.Sessions;
using AdHocMirror.Testing;
using Grpc.Core;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AdHocMirror.Coordinator.Tests.Support;

/// <summary>A real coordinator in this process: SQLite file in a temp dir, loopback listeners on port 0, a ManualClock.</summary>
public sealed class CoordinatorFixture : IAsyncDisposable
{
    private readonly TempDir? _ownedDir;

    private CoordinatorFixture(IHost host, CoordinatorOptions options, ManualClock clock, TempDir? ownedDir)
    {
        Host = host;
        Options = options;
        Clock = clock;
        _ownedDir = ownedDir;
        var listeners = host.Services.GetRequiredService<CoordinatorListeners>();
        PublicAddress = $"http://127.0.0.1:{listeners.Public.Server.Port}";
        AdminAddress = $"http://127.0.0.1:{listeners.Admin.Server.Port}";
        MetricsAddress = listeners.Metrics is { } m ? $"http://127.0.0.1:{m.Server.Port}" : null;
        Channel = GrpcChannels.Create(PublicAddress);
        AdminChannel = GrpcChannels.Create(AdminAddress);
        AdminToken = File.ReadAllText(Path.Combine(options.DataDir, Coordinator.Admin.AdminToken.FileName)).Trim();
        Admin = new AdminClient(AdminChannel.WithBearer(AdminToken));
        Registry = new RegistryClient(Channel);
        Sessions = new SessionsClient(Channel);
    }

    public IHost Host { get; }

    public CoordinatorOptions Options { get; }

    public ManualClock Clock { get; }

    public string PublicAddress { get; }

    public string AdminAddress { get; }

    public string? MetricsAddress { get; }

    public string AdminToken { get; }

    public GrpcChannel Channel { get; }

    public GrpcChannel AdminChannel { get; }

    public AdminClient Admin { get; }

    public RegistryClient Registry { get; }

    public SessionsClient Sessions { get; }

    public MirrorDirectory Directory => Host.Services.GetRequiredService<MirrorDirectory>();

    public static async Task<CoordinatorFixture> StartAsync(Action<CoordinatorOptions>? configure = null, string? dataDir = null, ManualClock? clock = null)
    {
        var owned = dataDir is null ? new TempDir("ahm-coord") : null;
        var options = new CoordinatorOptions
        {
            Listen = "127.0.0.1:0",
            AdminListen = "127.0.0.1:0",
            MetricsListen = "127.0.0.1:0",
            DataDir = dataDir ?? owned!.Path,
        };
        options.Keys.RegistrationsPerNetworkPerHour = 10_000;
        options.Keys.MaxMirrorsPerAddress = 10_000;

        // Every test client is on 127.0.0.0/24 (one network), most ask often, and "distinct clients" of the
        // quarantine tests would share one budget: no budget and a generous limit unless a test is about them.
        options.Privacy.RevealBudget = 0;
        options.Privacy.FindMirrorPerMinute = 100_000;

        // Housekeeping runs every interval of clock time; an hourly pass keeps jumps of months cheap.
        options.Keys.HousekeepingInterval = TimeSpan.FromHours(1);
        configure?.Invoke(options);
        clock ??= new ManualClock();
        var host = CoordinatorHost.Build(options, logging => logging.SetMinimumLevel(LogLevel.Warning), clock);
        await host.StartAsync();
        return new CoordinatorFixture(host, options, clock, owned);
    }

    public async Task<RegisterReply> RegisterAsync() => await Registry.RegisterAsync(new RegisterRequest { Software = "test/1" });

    public static CallOptions With(RegisterReply key, string? sessionId = null) => new(Credentials.ForKey(key.KeyId, key.Secret, sessionId));

    public static LoginRequest Login(int pingPort, string host = "127.0.0.1", uint maxClients = 10) => new()
    {
        Endpoints = new MirrorEndpoints
        {
            RsyncUri = $"rsync://{host}:8873/gentoo-portage",
            GitUri = $"git://{host}:9418/gentoo.git",
            PingAddress = $"{host}:{pingPort}",
        },
        Versions = { Version(Protocol.Rsync, new DateTimeOffset(2026, 11, 21, 0, 45, 1, TimeSpan.Zero)) },
        Limits = new LoadLimits { MaxClients = maxClients },
        Software = "ahm-daemon/test",
    };

    public static TreeVersion Version(Protocol protocol, DateTimeOffset generated, string commit = "") =>
        new() { Protocol = protocol, Generated = Timestamp.FromDateTimeOffset(generated), Commit = commit };

    /// <summary>Polls <paramref name="condition"/>, moving the clock by <paramref name="step"/> before each try.</summary>
    public Task AdvanceUntilAsync(Func<Task<bool>> condition, TimeSpan step, string what) =>
        Eventually.TrueAsync(
            async () =>
            {
                Clock.Advance(step);
                return await condition();
            },
            what);

    public Task AdvanceUntilAsync(Func<bool> condition, TimeSpan step, string what) => AdvanceUntilAsync(() => Task.FromResult(condition()), step, what);

    public async Task StopAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await Host.StopAsync(cts.Token);
    }

    public async ValueTask DisposeAsync()
    {
        Channel.Dispose();
        AdminChannel.Dispose();
        await StopAsync();
        Host.Dispose();
        _ownedDir?.Dispose();
    }
}
