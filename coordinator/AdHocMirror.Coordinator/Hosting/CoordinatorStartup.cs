using AdHocMirror.Coordinator.Admin;
using AdHocMirror.Coordinator.Keys;
using AdHocMirror.Coordinator.Mirrors;
using AdHocMirror.Coordinator.Sessions;
using AdHocMirror.Coordinator.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AdHocMirror.Coordinator.Hosting;

/// <summary>Runs first: opens (or creates and migrates) the store and loads its state before any listener accepts a call.</summary>
public sealed partial class CoordinatorStartup(
    ICoordinatorStore store,
    KeyRegistry keys,
    MirrorQuarantine quarantine,
    SessionBook sessions,
    AdminToken token,
    MirrorDirectory directory,
    Liveness.PingScheduler pings,
    Observability.CoordinatorMetrics metrics,
    CoordinatorOptions options,
    Geo.Locator locator,
    AdHocMirror.Hosting.Readiness readiness,
    IHostApplicationLifetime lifetime,
    ILogger<CoordinatorStartup> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await store.OpenAsync(cancellationToken);
        quarantine.Released += keyId =>
        {
            if (directory.Find(keyId) is { } mirror)
            {
                pings.PingSoon(keyId, mirror.SessionId);
            }
        };
        metrics.AddGauge("ahm_mirrors", "Mirrors by state.", () => directory.CountByState().Select(p => new KeyValuePair<string, double>(p.Key switch
        {
            Contracts.V1.MirrorState.Online => "online",
            Contracts.V1.MirrorState.Offline => "offline",
            Contracts.V1.MirrorState.Quarantined => "quarantined",
            _ => "pinging",
        }, p.Value)), "state");
        metrics.AddGauge("ahm_sessions", "Open sessions.", () => [new(string.Empty, directory.Count)]);
        metrics.AddGauge("ahm_keys_live", "Live keys.", () => [new(string.Empty, keys.LiveCount)]);
        await keys.LoadAsync(cancellationToken);
        await quarantine.LoadAsync(cancellationToken);
        await sessions.RestoreAsync(cancellationToken);
        readiness.Clear("store");
        if (locator.HasDatabase)
        {
            readiness.Clear("geoip");
        }

        lifetime.ApplicationStopping.Register(readiness.ShuttingDown);
        LogStore(logger, store is PostgresCoordinatorStore shared ? shared.Description : options.DatabasePath, keys.LiveCount);
        if (token.Created)
        {
            LogToken(logger, token.Path);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Store {Path} open; {LiveKeys} live keys")]
    private static partial void LogStore(ILogger logger, string path, int liveKeys);

    [LoggerMessage(Level = LogLevel.Information, Message = "Admin token created at {Path} (mode 0600); give it to the admin CLI with --token-file")]
    private static partial void LogToken(ILogger logger, string path);
}
