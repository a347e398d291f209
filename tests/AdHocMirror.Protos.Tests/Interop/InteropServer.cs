using System.Net;
using AdHocMirror.Hosting;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace AdHocMirror.Protos.Tests.Interop;

/// <summary>Our <see cref="GrpcServer"/> on a loopback port of its own choosing, serving the interop service.</summary>
public sealed class InteropServer : IAsyncDisposable
{
    private InteropServer(GrpcServer server, Readiness readiness, InteropService service)
    {
        Server = server;
        Readiness = readiness;
        Service = service;
    }

    public InteropService Service { get; }

    public GrpcServer Server { get; }

    public Readiness Readiness { get; }

    public string Address => $"127.0.0.1:{Server.Port}";

    public static async Task<InteropServer> StartAsync(GrpcServerLimits? limits = null, GrpcEndpoint? endpoint = null)
    {
        var readiness = new Readiness();
        var service = new InteropService();
        var server = GrpcServer.Create(
            [endpoint ?? new GrpcEndpoint(new IPEndPoint(IPAddress.Loopback, 0))],
            limits ?? new GrpcServerLimits { MaxReceiveMessageSize = 4 * 1024 * 1024 },
            NullLoggerFactory.Instance,
            readiness,
            s => s.AddSingleton(service),
            routes => routes.MapGrpcService<InteropService>());
        await server.StartAsync();
        return new InteropServer(server, readiness, service);
    }

    public GrpcChannel Channel() => Clients.GrpcChannels.Create("http://" + Address);

    public ValueTask DisposeAsync() => Server.DisposeAsync();
}
