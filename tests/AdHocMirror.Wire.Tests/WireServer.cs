using System.Net;
using AdHocMirror.Contracts;
using Microsoft.Extensions.Logging.Abstractions;

namespace AdHocMirror.Wire.Tests;

/// <summary>Our GrpcServer on a loopback port of its own choosing, serving the interop and health services.</summary>
public sealed class WireServer : IAsyncDisposable
{
    public GrpcServer Server { get; }

    public HealthService Health { get; }

    public string Address => $"127.0.0.1:{Server.Port}";

    public static async Task<WireServer> StartAsync(GrpcServerOptions? options = null, GrpcListenEndpoint? endpoint = null)
    {
        var health = new HealthService("ahm.test.Interop");
        var server = GrpcServer.Create(
            [endpoint ?? new GrpcListenEndpoint(new IPEndPoint(IPAddress.Loopback, 0))],
            [new InteropService().Bind(), health.Bind()],
            options ?? new GrpcServerOptions(),
            NullLoggerFactory.Instance);
        await server.StartAsync();
        return new WireServer(server, health);
    }

    private WireServer(GrpcServer server, HealthService health)
    {
        Server = server;
        Health = health;
    }

    public GrpcChannel Channel(GrpcChannelOptions? options = null) => GrpcChannel.ForAddress("http://" + Address, options);

    public ValueTask DisposeAsync() => Server.DisposeAsync();
}
