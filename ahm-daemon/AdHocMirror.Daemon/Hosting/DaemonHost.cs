using System.Net;
using AdHocMirror.Contracts;
using AdHocMirror.Daemon.Configuration;
using AdHocMirror.Daemon.Enrolment;
using AdHocMirror.Daemon.Ping;
using AdHocMirror.Daemon.Serving;
using AdHocMirror.Daemon.Session;
using AdHocMirror.Daemon.Snapshots;
using AdHocMirror.Daemon.Status;
using AdHocMirror.Hosting;
using AdHocMirror.Tree.OpenPgp;
using AdHocMirror.Tree.Processes;
using AdHocMirror.Tree.Snapshots;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AdHocMirror.Daemon.Hosting;

/// <summary>Composes the daemon: snapshots, serving, the coordinator session and the ping listener, on the generic host.</summary>
public static class DaemonHost
{
    /// <param name="keyring">The opened keyring that signs the tree (owned by the caller).</param>
    /// <param name="logging">Replaces the console logging (tests).</param>
    public static IHost Build(DaemonOptions options, OpenPgpKeyring keyring, Action<ILoggingBuilder>? logging = null, TimeProvider? clock = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (Native.IsRoot && !options.AllowRoot)
        {
            throw new SettingsException("user: refusing to serve as root; start as root only through 'ahm-daemon run', which switches to the configured user");
        }

        if (!IPAddress.TryParse(options.ListenAddress, out var listenAddress))
        {
            throw new SettingsException($"listen: '{options.ListenAddress}' is not an IP address");
        }

        CreatePrivateDirectory(options.StateDir, "state_dir");
        CreateDirectory(options.TreeDir, "tree_dir");
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], DisableDefaults = true });
        builder.Logging.ClearProviders();
        if (logging is null)
        {
            AddConsole(builder.Logging);
        }
        else
        {
            logging(builder.Logging);
        }

        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        // What grpc-dotnet logs itself is transport trouble that callers cause (resets, deadlines racing a write), which
        // anyone can trigger at will; handler failures are logged once by UnexpectedErrorInterceptor.
        builder.Logging.AddFilter("Grpc", LogLevel.Critical);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(20));
        var services = builder.Services;
        services.AddSingleton(options);
        services.AddSingleton(keyring);
        services.AddSingleton(clock ?? TimeProvider.System);
        // Ends the servers and transfers a hard-killed predecessor left running, then records this run's children.
        var children = ChildLedger.Open(Path.Combine(options.StateDir, "children"));
        services.AddSingleton(children);
        services.AddSingleton<IProcessRunner>(new ProcessRunner(children));
        services.AddSingleton<MirrorState>();
        services.AddSingleton<DaemonExit>();
        services.AddSingleton<CoordinatorConnection>();
        services.AddSingleton<KeyEnrolment>();
        services.AddSingleton(sp => new SnapshotStore(
            new SnapshotStoreOptions { Root = Path.Combine(options.TreeDir, "rsync") },
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<SnapshotStore>>()));
        services.AddSingleton<ServingSupervisor>();
        if (options.ServesRsync)
        {
            services.AddSingleton<ISnapshotSource, RsyncSnapshotSource>();
        }

        if (options.ServesGit)
        {
            services.AddSingleton<ISnapshotSource, GitSnapshotSource>();
        }

        services.AddSingleton<MirrorPingService>();
        var readiness = new Readiness();
        services.AddSingleton(readiness);
        services.AddSingleton<SnapshotKeeper>();
        services.AddSingleton<SessionKeeper>();

        // Stopped in reverse order: logout first, then syncing, the ping listener, the status file, and the servers last.
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<ServingSupervisor>());
        services.AddHostedService<StatusWriter>();
        services.AddSingleton(sp => new GrpcServerService(
            "ping listener",
            GrpcServer.Create(
                [new GrpcEndpoint(new IPEndPoint(listenAddress, options.PingPort))],
                GrpcServerLimits.PingListener,
                sp.GetRequiredService<ILoggerFactory>(),
                readiness,
                s => s.AddSingleton(sp.GetRequiredService<MirrorPingService>()),
                routes => routes.MapGrpcService<MirrorPingService>()),
            sp.GetRequiredService<ILogger<GrpcServerService>>()));
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<GrpcServerService>());
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<SnapshotKeeper>());
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<SessionKeeper>());
        var host = builder.Build();
        host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.Register(readiness.ShuttingDown);
        return host;
    }

    /// <summary>Single-line, UTC-stamped console logging on stderr: readable in a terminal, and one record per line for syslog.</summary>
    public static void AddConsole(ILoggingBuilder logging)
    {
        ArgumentNullException.ThrowIfNull(logging);
        logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ssZ ";
            o.UseUtcTimestamp = true;
            o.IncludeScopes = false;
        });
        logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
    }

    private static void CreatePrivateDirectory(string path, string setting)
    {
        CreateDirectory(path, setting);
        if (!OperatingSystem.IsWindows())
        {
            try
            {
                // The key lives here: nobody else may list or read it.
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
            catch (UnauthorizedAccessException e)
            {
                throw new SettingsException($"{setting}: cannot make '{path}' private: {e.Message}");
            }
        }
    }

    private static void CreateDirectory(string path, string setting)
    {
        try
        {
            Directory.CreateDirectory(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SettingsException($"{setting}: cannot create '{path}': {e.Message}");
        }
    }
}
