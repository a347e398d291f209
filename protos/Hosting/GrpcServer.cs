using System.Security.Cryptography.X509Certificates;
using Grpc.AspNetCore.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AdHocMirror.Hosting;

/// <summary>
/// One Kestrel server answering gRPC (Grpc.AspNetCore) on its own endpoints, with the project's limits, server
/// reflection (grpc.reflection.v1 and v1alpha), the standard health service driven by <see cref="Readiness"/>, and
/// <see cref="UnexpectedErrorInterceptor"/> on every call. A program runs one per listener so that a service is
/// reachable only where it is mapped (Admin never on the public listener).
/// </summary>
public sealed class GrpcServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly List<(ListenOptions Options, bool Tls)> _listeners;
    private bool _started;

    private GrpcServer(WebApplication app, List<(ListenOptions Options, bool Tls)> listeners)
    {
        _app = app;
        _listeners = listeners;
    }

    /// <summary>The addresses actually bound (ports resolved when 0 was asked for), after <see cref="StartAsync"/>.</summary>
    public IReadOnlyList<Uri> Addresses { get; private set; } = [];

    /// <summary>The port of the first endpoint, after <see cref="StartAsync"/>.</summary>
    public int Port => Addresses.Count > 0 ? Addresses[0].Port : throw new InvalidOperationException("The server has not started.");

    /// <param name="services">Registers what the mapped services need, normally the program's own instances.</param>
    /// <param name="map">Maps the gRPC services (and any plain HTTP routes) of this listener.</param>
    /// <param name="grpc">Adds interceptors of this listener's own (authentication).</param>
    public static GrpcServer Create(
        IReadOnlyList<GrpcEndpoint> endpoints,
        GrpcServerLimits limits,
        ILoggerFactory loggerFactory,
        Readiness readiness,
        Action<IServiceCollection> services,
        Action<IEndpointRouteBuilder> map,
        Action<GrpcServiceOptions>? grpc = null)
    {
        // No appsettings reload: a file watcher per server would exhaust the per-user inotify limit
        // when many servers run in one process (tests); nothing here reads appsettings.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = ["--hostBuilder:reloadConfigOnChange=false"],
            ApplicationName = "AdHocMirror",
        });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(loggerFactory);
        // The program's own host owns signals and lifetime messages; this one only serves.
        builder.Services.AddSingleton<Microsoft.Extensions.Hosting.IHostLifetime, ServerOnlyLifetime>();
        var listeners = new List<(ListenOptions Options, bool Tls)>();
        builder.WebHost.ConfigureKestrel(kestrel => Configure(kestrel, endpoints, limits, listeners));
        builder.Services.AddGrpc(o =>
        {
            o.MaxReceiveMessageSize = limits.MaxReceiveMessageSize;
            o.MaxSendMessageSize = limits.MaxSendMessageSize;
            o.EnableDetailedErrors = false;
            o.Interceptors.Add<UnexpectedErrorInterceptor>();
            grpc?.Invoke(o);
        });
        builder.Services.AddGrpcReflection();
        builder.Services.AddSingleton(readiness);
        builder.Services.AddGrpcHealthChecks().AddCheck<Readiness>("ready");
        services(builder.Services);

        var app = builder.Build();
        app.UseRouting();
        app.Use(next => context => BoundUnaryCallAsync(context, next, limits.MaxUnaryCallDuration));
        map(app);
        app.MapGrpcReflectionService();
        app.MapGrpcHealthChecksService();
        app.MapFallback(context =>
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        });
        return new GrpcServer(app, listeners);
    }

    /// <summary>Resets a unary call's stream once it has run <paramref name="limit"/>, whatever it is waiting for.</summary>
    private static async Task BoundUnaryCallAsync(HttpContext context, RequestDelegate next, TimeSpan limit)
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<GrpcMethodMetadata>()?.Method.Type != Grpc.Core.MethodType.Unary)
        {
            await next(context);
            return;
        }

        using var bound = new CancellationTokenSource(limit);
        await using var abort = bound.Token.UnsafeRegister(static state => ((HttpContext)state!).Abort(), context);
        await next(context);
    }

    private static void Configure(KestrelServerOptions kestrel, IReadOnlyList<GrpcEndpoint> endpoints, GrpcServerLimits limits, List<(ListenOptions Options, bool Tls)> listeners)
    {
        kestrel.AddServerHeader = false;
        kestrel.Limits.MaxConcurrentConnections = limits.MaxConnections;
        kestrel.Limits.MaxRequestHeadersTotalSize = limits.MaxRequestHeadersTotalSize;
        kestrel.Limits.RequestHeadersTimeout = limits.RequestHeadersTimeout;
        kestrel.Limits.KeepAliveTimeout = limits.IdleConnectionTimeout;
        kestrel.Limits.MinRequestBodyDataRate = null; // see GrpcServerLimits.MaxUnaryCallDuration
        kestrel.Limits.Http2.MaxStreamsPerConnection = limits.MaxStreamsPerConnection;
        kestrel.Limits.Http2.MaxRequestHeaderFieldSize = limits.MaxRequestHeadersTotalSize;
        kestrel.Limits.Http2.KeepAlivePingDelay = limits.KeepAlivePingDelay;
        kestrel.Limits.Http2.KeepAlivePingTimeout = limits.KeepAlivePingTimeout;
        foreach (var endpoint in endpoints)
        {
            kestrel.Listen(endpoint.EndPoint, listen =>
            {
                if (endpoint.UsesTls)
                {
                    listen.Protocols = HttpProtocols.Http1AndHttp2;
                    listen.UseHttps(X509Certificate2.CreateFromPemFile(endpoint.CertificateFile!, endpoint.KeyFile));
                }
                else
                {
                    listen.Protocols = endpoint.PlainHttp ? HttpProtocols.Http1 : HttpProtocols.Http2;
                }

                listeners.Add((listen, endpoint.UsesTls));
            });
        }
    }

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await _app.StartAsync(cancellationToken);
        _started = true;
        // Kestrel writes the bound port back into each endpoint once it listens.
        Addresses = _listeners.Select(l => new UriBuilder(l.Tls ? "https" : "http", Loopback(l.Options.IPEndPoint!.Address), l.Options.IPEndPoint.Port).Uri).ToList();
    }

    private static string Loopback(System.Net.IPAddress address)
    {
        if (address.Equals(System.Net.IPAddress.Any))
        {
            return "127.0.0.1";
        }

        if (address.Equals(System.Net.IPAddress.IPv6Any))
        {
            return "[::1]";
        }

        return address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();
    }

    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (_started)
        {
            _started = false;
            await _app.StopAsync(cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5)))
        {
            await StopAsync(cts.Token);
        }

        await _app.DisposeAsync();
    }
}

/// <summary>A host lifetime that neither listens for signals nor prints status lines.</summary>
internal sealed class ServerOnlyLifetime : Microsoft.Extensions.Hosting.IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
