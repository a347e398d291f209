using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;

namespace AdHocMirror.Wire.Tests.Wire;

/// <summary>Plain HTTP routes (/metrics, /healthz) served beside gRPC.</summary>
public sealed class HttpRouteTests
{
    [Fact]
    public async Task MappedRoutesAnswerOnPlainHttpAndUnknownPathsAre404()
    {
        await using var server = GrpcServer.Create(
            [new GrpcListenEndpoint(new IPEndPoint(IPAddress.Loopback, 0), PlainHttp: true)],
            [new InteropService().Bind()],
            new GrpcServerOptions(),
            NullLoggerFactory.Instance,
            routes => routes.MapGet("/metrics", () => Results.Text("ahm_up 1\n")));
        await server.StartAsync();
        using var http = new HttpClient();

        var metrics = await http.GetAsync($"http://127.0.0.1:{server.Port}/metrics");
        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        Assert.Equal("ahm_up 1\n", await metrics.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"http://127.0.0.1:{server.Port}/nothing")).StatusCode);
    }

    [Fact]
    public async Task MappedRoutesAnswerOverH2cBesideGrpc()
    {
        await using var server = GrpcServer.Create(
            [new GrpcListenEndpoint(new IPEndPoint(IPAddress.Loopback, 0))],
            [new InteropService().Bind()],
            new GrpcServerOptions(),
            NullLoggerFactory.Instance,
            routes => routes.MapGet("/healthz", () => Results.Text("ok")));
        await server.StartAsync();
        using var http = new HttpClient { DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };

        Assert.Equal("ok", await http.GetStringAsync($"http://127.0.0.1:{server.Port}/healthz"));
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{server.Port}");
        Assert.Equal("still grpc", (await channel.UnaryAsync(InteropService.Echo, new Interop.EchoRequest { Text = "still grpc" })).Text);
    }
}
