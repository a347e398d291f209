using AdHocMirror.Coordinator.Admin;
using AdHocMirror.Coordinator.Cluster;
using AdHocMirror.Coordinator.Keys;
using AdHocMirror.Coordinator.Liveness;
using AdHocMirror.Coordinator.Matching;
using AdHocMirror.Coordinator.Mirrors;
using AdHocMirror.Coordinator.Observability;
using AdHocMirror.Coordinator.Sessions;
using AdHocMirror.Coordinator.Storage;
using AdHocMirror.Hosting;
using Grpc.AspNetCore.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AdHocMirror.Coordinator.Hosting;

/// <summary>Composes the coordinator: its services, its gRPC listeners and its housekeeping.</summary>
public static class CoordinatorHost
{
    /// <param name="clock">The clock for expiry, housekeeping and ping scheduling (tests pass a ManualClock).</param>
    /// <param name="locator">Where mirrors are; matching plugs GeoIP in here.</param>
    /// <param name="replace">Last word on the services (benchmarks replace a part, e.g. how client networks are told apart).</param>
    public static IHost Build(CoordinatorOptions options, Action<ILoggingBuilder>? logging = null, TimeProvider? clock = null, IMirrorLocator? locator = null, Action<IServiceCollection>? replace = null)
    {
        if ((options.TlsCert is null) != (options.TlsKey is null))
        {
            throw new SettingsException("--tls-cert and --tls-key go together");
        }

        Check(options);
        var publicEndpoint = Parse("listen", options.Listen, options.TlsCert, options.TlsKey);
        var adminEndpoint = Parse("admin-listen", options.AdminListen, null, null);
        var metricsEndpoint = IsOff(options.MetricsListen) ? null : Parse("metrics-listen", options.MetricsListen, null, null) with { PlainHttp = true };
        Directory.CreateDirectory(options.DataDir);
        AdminToken token;
        try
        {
            token = AdminToken.LoadOrCreate(options.DataDir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            throw new SettingsException($"admin token in {options.DataDir}: {e.Message}");
        }

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
        // What grpc-dotnet logs itself is transport trouble that callers cause (resets, deadlines racing a write), which
        // anyone can trigger at will; handler failures are logged once by UnexpectedErrorInterceptor.
        builder.Logging.AddFilter("Grpc", LogLevel.Critical);
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Information);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(10));
        var services = builder.Services;
        services.AddSingleton(options);
        services.AddSingleton(options.Keys);
        services.AddSingleton(options.Sessions);
        services.AddSingleton(options.Pings);
        services.AddSingleton(clock ?? TimeProvider.System);
        services.AddMatching(options, locator);
        services.AddSingleton(token);
        services.AddSingleton(StoreSelection.Create(options.Store, options.StorePasswordFile, options.DatabasePath));
        services.AddSingleton<CoordinatorMetrics>();
        services.AddSingleton<AuditTrail>();
        services.AddSingleton<MirrorDirectory>();
        services.AddSingleton<MirrorQuarantine>();
        services.AddSingleton<Refusals>();
        services.AddSingleton<RegistrationLimiter>();
        services.AddSingleton<KeyRegistry>();
        services.AddSingleton<PingScheduler>();
        services.AddSingleton<SessionBook>();
        services.AddSingleton<RegistryService>();
        services.AddSingleton<SessionsService>();
        services.AddSingleton<AdminService>();
        services.AddSingleton<MirrorKeyInterceptor>();
        services.AddSingleton<AdminTokenInterceptor>();
        services.AddSingleton<CoordinatorListeners>();
        var readiness = new Readiness();
        readiness.Block("store", "not open yet");
        if (!string.IsNullOrEmpty(options.GeoIp))
        {
            readiness.Block("geoip", "database not loaded yet");
        }

        services.AddSingleton(readiness);
        var publicLimits = new GrpcServerLimits { MaxReceiveMessageSize = options.MaxMessageSize };
        // Staff listings of a large swarm are big; only staff reach this listener.
        var adminLimits = new GrpcServerLimits { MaxSendMessageSize = 64 * 1024 * 1024, MaxConnections = 64 };

        services.AddHostedService<CoordinatorStartup>();
        // After the store is open, before the listeners: FindMirror finds the window's shared secret in memory.
        services.AddHostedService(sp => sp.GetRequiredService<Matching.Privacy.RevealWindowSync>());
        services.AddCluster(options);
        // AddSingleton, not AddHostedService: the latter drops a second registration of the same type.
        services.AddSingleton<IHostedService>(sp =>
        {
            var server = Listener(sp, "coordinator", publicEndpoint, publicLimits, s => s
                .AddSingleton(sp.GetRequiredService<RegistryService>())
                .AddSingleton(sp.GetRequiredService<SessionsService>())
                .AddSingleton(sp.GetRequiredService<MatchingService>())
                .AddSingleton(sp.GetRequiredService<MirrorKeyInterceptor>()),
                routes =>
                {
                    routes.MapGrpcService<RegistryService>();
                    routes.MapGrpcService<SessionsService>();
                    routes.MapGrpcService<MatchingService>();
                },
                grpc => grpc.Interceptors.Add<MirrorKeyInterceptor>());
            sp.GetRequiredService<CoordinatorListeners>().Public = server;
            return server;
        });
        services.AddSingleton<IHostedService>(sp =>
        {
            var server = Listener(sp, "admin", adminEndpoint, adminLimits, s => s
                .AddSingleton(sp.GetRequiredService<AdminService>())
                .AddSingleton(sp.GetRequiredService<AdminTokenInterceptor>()),
                routes =>
                {
                    routes.MapGrpcService<AdminService>();
                    HealthRoutes.Map(routes, sp.GetRequiredService<CoordinatorMetrics>(), sp.GetRequiredService<ICoordinatorStore>());
                },
                grpc => grpc.Interceptors.Add<AdminTokenInterceptor>());
            sp.GetRequiredService<CoordinatorListeners>().Admin = server;
            return server;
        });
        if (metricsEndpoint is not null)
        {
            services.AddSingleton<IHostedService>(sp =>
            {
                var server = Listener(sp, "metrics", metricsEndpoint, adminLimits, _ => { }, routes =>
                    HealthRoutes.Map(routes, sp.GetRequiredService<CoordinatorMetrics>(), sp.GetRequiredService<ICoordinatorStore>()));
                sp.GetRequiredService<CoordinatorListeners>().Metrics = server;
                return server;
            });
        }

        services.AddHostedService<KeyHousekeeping>();
        services.AddHostedService(sp => sp.GetRequiredService<PingScheduler>());
        replace?.Invoke(services);
        return builder.Build();
    }

    public static bool IsOff(string? value) => string.IsNullOrWhiteSpace(value) || value.Equals("off", StringComparison.OrdinalIgnoreCase) || value.Equals("none", StringComparison.OrdinalIgnoreCase);

    private static void Check(CoordinatorOptions options)
    {
        static void Positive(string name, TimeSpan value)
        {
            if (value <= TimeSpan.Zero)
            {
                throw new SettingsException($"{name} must be positive");
            }
        }

        Positive("key lifetime", options.Keys.Lifetime);
        Positive("key idle limit", options.Keys.IdleLimit);
        Positive("tombstone cool-off", options.Keys.CoolOff);
        Positive("housekeeping interval", options.Keys.HousekeepingInterval);
        Positive("ping interval", options.Pings.Interval);
        Positive("ping timeout", options.Pings.Timeout);
        if (options.Keys.RegistrationsPerNetworkPerHour < 1 || options.Keys.MaxMirrorsPerAddress < 1)
        {
            throw new SettingsException("registration limits must be at least 1");
        }

        if (options.Pings.FailuresToOffline < 1 || options.Pings.MaxConcurrency < 1)
        {
            throw new SettingsException("ping failures and concurrency must be at least 1");
        }

        if (options.Pings.Jitter is < 0 or >= 1)
        {
            throw new SettingsException("ping jitter must be in [0, 1)");
        }
    }

    private static GrpcServerService Listener(
        IServiceProvider sp, string name, GrpcEndpoint endpoint, GrpcServerLimits limits,
        Action<IServiceCollection> services, Action<IEndpointRouteBuilder> map, Action<GrpcServiceOptions>? grpc = null) =>
        new(
            name,
            GrpcServer.Create([endpoint], limits, sp.GetRequiredService<ILoggerFactory>(), sp.GetRequiredService<Readiness>(), services, map, grpc),
            sp.GetRequiredService<ILogger<GrpcServerService>>());

    private static GrpcEndpoint Parse(string setting, string value, string? cert, string? key)
    {
        if (!HostPort.TryParseEndPoint(value, out var endPoint, out var error))
        {
            throw new SettingsException($"--{setting}: {error}");
        }

        return new GrpcEndpoint(endPoint, cert, key);
    }
}
