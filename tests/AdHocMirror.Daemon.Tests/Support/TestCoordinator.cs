using AdHocMirror.Contracts;
using AdHocMirror.Contracts.V1;
using AdHocMirror.Coordinator.Admin;
using AdHocMirror.Coordinator.Hosting;
using AdHocMirror.Coordinator.Sessions;
using AdHocMirror.Testing;
using Grpc.Core;
using Microsoft.Extensions.Hosting;

namespace AdHocMirror.Daemon.Tests.Support;

/// <summary>A real coordinator (its own host composition, SQLite in a temp dir) on loopback ports that survive a restart.</summary>
public sealed class TestCoordinator : IAsyncDisposable
{
    private readonly string _dataDir;
    private IHost? _host;
    private GrpcChannel? _adminChannel;

    public TestCoordinator(string dataDir)
    {
        _dataDir = dataDir;
        Port = FreePort.Next();
        AdminPort = FreePort.Next();
    }

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
