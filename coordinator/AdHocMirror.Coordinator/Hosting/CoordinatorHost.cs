using AdHocMirror.Contracts;
using AdHocMirror.Hosting;
using AdHocMirror.Wire;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AdHocMirror.Coordinator.Hosting;

/// <summary>Composes the coordinator: its services, its two gRPC listeners and its housekeeping.</summary>
public static class CoordinatorHost
{
    public static IHost Build(CoordinatorOptions options, Action<ILoggingBuilder>? logging = null)
    {
        if ((options.TlsCert is null) != (options.TlsKey is null))
        {
            throw new SettingsException("--tls-cert and --tls-key go together");
        }

        var publicEndpoint = Parse("listen", options.Listen, options.TlsCert, options.TlsKey);
        var adminEndpoint = Parse("admin-listen", options.AdminListen, null, null);
        Directory.CreateDirectory(options.DataDir);

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], DisableDefaults = true });
        builder.Logging.ClearProviders();
        if (logging is null)
        {
            builder.Logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ssZ ";
                o.UseUtcTimestamp = true;
            });
        }
        else
        {
            logging(builder.Logging);
        }

        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Information);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(10));
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(new HealthService(RegistryMethods.Service, SessionsMethods.Service, MatchingMethods.Service));
        var grpcOptions = new GrpcServerOptions { MaxReceiveMessageSize = options.MaxMessageSize, MaxSendMessageSize = options.MaxMessageSize };

        builder.Services.AddHostedService(sp => new GrpcServerService(
            "coordinator",
            GrpcServer.Create([publicEndpoint], [sp.GetRequiredService<HealthService>().Bind()], grpcOptions, sp.GetRequiredService<ILoggerFactory>()),
            sp.GetRequiredService<ILogger<GrpcServerService>>()));
        builder.Services.AddHostedService(sp => new GrpcServerService(
            "admin",
            GrpcServer.Create([adminEndpoint], [sp.GetRequiredService<HealthService>().Bind()], grpcOptions, sp.GetRequiredService<ILoggerFactory>()),
            sp.GetRequiredService<ILogger<GrpcServerService>>()));
        return builder.Build();
    }

    private static GrpcListenEndpoint Parse(string setting, string value, string? cert, string? key)
    {
        if (!HostPort.TryParseEndPoint(value, out var endPoint, out var error))
        {
            throw new SettingsException($"--{setting}: {error}");
        }

        return new GrpcListenEndpoint(endPoint, cert, key);
    }
}
