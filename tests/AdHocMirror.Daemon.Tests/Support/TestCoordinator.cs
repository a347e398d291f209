using AdHocMirror.Contracts;
using AdHocMirror.Contracts.V1;
using AdHocMirror.Coordinator.Admin;
using AdHocMirror.Coordinator.Hosting;
using AdHocMirror.Coordinator.Observability;
using AdHocMirror.Coordinator.Sessions;
using AdHocMirror.Testing;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AdHocMirror.Daemon.Tests.Support;

/// <summary>
/// A real coordinator (its own host composition, SQLite in a temp dir, or one of several on a shared PostgreSQL
/// database) on loopback ports that survive a restart.
/// </summary>
public sealed class TestCoordinator : IAsyncDisposable
{
    private readonly string _dataDir;
    private readonly (string ConnectionString, string PasswordFile)? _store;
    private IHost? _host;
    private GrpcChannel? _adminChannel;

    /// <param name="store">A PostgreSQL database (without its password) and the password's file: one of a cluster.</param>
    public TestCoordinator(string dataDir, (string ConnectionString, string PasswordFile)? store = null)
    {
        _dataDir = dataDir;
        _store = store;
        Port = FreePort.Next();
        AdminPort = FreePort.Next();
    }

    /// <summary>The running coordinator's services (null when stopped).</summary>
    public IServiceProvider? Services => _host?.Services;

    /// <summary>Logins this coordinator answered since it started.</summary>
    public double Logins => _host!.Services.GetRequiredService<CoordinatorMetrics>().Flatten().GetValueOrDefault("ahm_logins_total");

    public int Port { get; }

    public int AdminPort { get; }

    public string Url => $"http://127.0.0.1:{Port}";

    public AdminClient Admin { get; private set; } = null!;

    public async Task StartAsync()
    {
        var options = new CoordinatorOptions
        {
            Listen = $"127.0.0.1:{Port}",
            AdminListen = $"127.0.0.1:{AdminPort}",
            MetricsListen = "off",
            DataDir = _dataDir,
        };
        options.Pings.Interval = TimeSpan.FromSeconds(1);
        options.Pings.Timeout = TimeSpan.FromSeconds(2);
        options.Pings.FailuresToOffline = 2;
        options.Sessions.PingAddressPolicy = PingAddressPolicy.SameAsCaller;
        if (_store is { } store)
        {
            // One of several on one database, with the short intervals of the coordinator's own cluster tests.
            options.Store = store.ConnectionString;
            options.StorePasswordFile = store.PasswordFile;
            options.Cluster.HeartbeatInterval = TimeSpan.FromMilliseconds(250);
            options.Cluster.DeadAfter = TimeSpan.FromSeconds(2);
            options.Cluster.ChangePollInterval = TimeSpan.FromMilliseconds(100);
        }

        _host = CoordinatorHost.Build(options, logging: _ => { });
        await _host.StartAsync();
        _adminChannel?.Dispose();
        _adminChannel = GrpcChannels.Create($"http://127.0.0.1:{AdminPort}");
        Admin = new AdminClient(_adminChannel.WithBearer((await File.ReadAllTextAsync(Path.Combine(_dataDir, AdminToken.FileName))).Trim()));
    }

    public async Task StopAsync()
    {
        if (_host is not null)
        {
            await _host.StopAsync();
            _host.Dispose();
            _host = null;
        }
    }

    public async Task<MirrorInfo?> MirrorAsync(string? keyId)
    {
        var list = await Admin.ListMirrorsAsync(new ListMirrorsRequest());
        return list.Mirrors.FirstOrDefault(m => keyId is null || m.KeyId == keyId);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _adminChannel?.Dispose();
    }
}
