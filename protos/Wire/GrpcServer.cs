using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AdHocMirror.Wire;

/// <summary>
/// A Kestrel server that answers gRPC for a set of <see cref="ServiceBinding"/>s on one or more endpoints.
/// Cleartext endpoints speak HTTP/2 only (h2c with prior knowledge, as gRPC clients expect);
/// TLS endpoints negotiate h2 by ALPN and also answer HTTP/1.1 for plain HTTP routes.
/// </summary>
public sealed class GrpcServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private bool _started;

    private GrpcServer(WebApplication app) => _app = app;

    /// <summary>The URIs actually bound (ports resolved when 0 was asked for), after <see cref="StartAsync"/>.</summary>
    public IReadOnlyList<Uri> Addresses { get; private set; } = [];

    /// <summary>The port of the first endpoint, after <see cref="StartAsync"/>.</summary>
    public int Port => Addresses.Count > 0 ? Addresses[0].Port : throw new InvalidOperationException("The server has not started.");

    /// <param name="httpRoutes">Plain HTTP routes served beside gRPC on the same endpoints (e.g. /metrics).</param>
    public static GrpcServer Create(
        IEnumerable<GrpcListenEndpoint> endpoints,
        IEnumerable<ServiceBinding> bindings,
        GrpcServerOptions options,
        ILoggerFactory loggerFactory,
        Action<IEndpointRouteBuilder>? httpRoutes = null)
    {
        // No appsettings reload: a file watcher per server would exhaust the per-user inotify limit
        // when many servers run in one process (tests, the daemon's listeners); nothing here reads appsettings.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = ["--hostBuilder:reloadConfigOnChange=false"],
            ApplicationName = "AdHocMirror",
        });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(loggerFactory);
        // The program's own host owns signals and lifetime messages; this one only serves.
        builder.Services.AddSingleton<Microsoft.Extensions.Hosting.IHostLifetime, ServerOnlyLifetime>();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = null;
            kestrel.Limits.MinRequestBodyDataRate = null;
            kestrel.Limits.Http2.MaxStreamsPerConnection = options.MaxStreamsPerConnection;
            kestrel.Limits.Http2.KeepAlivePingDelay = TimeSpan.FromSeconds(60);
            kestrel.Limits.Http2.KeepAlivePingTimeout = TimeSpan.FromSeconds(20);
            foreach (var endpoint in endpoints)
            {
                kestrel.Listen(endpoint.EndPoint, listen =>
                {
                    if (endpoint.UsesTls)
                    {
                        listen.Protocols = HttpProtocols.Http1AndHttp2;
                        var certificate = X509Certificate2.CreateFromPemFile(endpoint.CertificateFile!, endpoint.KeyFile);
                        listen.UseHttps(certificate);
                    }
                    else
                    {
                        listen.Protocols = endpoint.PlainHttp ? HttpProtocols.Http1 : HttpProtocols.Http2;
                    }
                });
            }
        });

        var app = builder.Build();
        var dispatcher = new GrpcDispatcher(bindings, options, loggerFactory.CreateLogger("AdHocMirror.Wire.GrpcServer"));
        app.Use(next => context => dispatcher.Accepts(context) ? dispatcher.HandleAsync(context) : next(context));
        httpRoutes?.Invoke(app);
        // A fallback endpoint rather than a terminal middleware, so that routes mapped above still match.
        app.MapFallback(context =>
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        });
        return new GrpcServer(app);
    }

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await _app.StartAsync(cancellationToken);
        _started = true;
        var addresses = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        Addresses = addresses.Select(a => new Uri(a.Replace("[::]", "[::1]", StringComparison.Ordinal).Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal))).ToList();
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
