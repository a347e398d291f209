using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AdHocMirror.Coordinator.Keys;

/// <summary>Runs <see cref="KeyRegistry.HousekeepAsync"/> on the injected clock, and flushes last-use times on shutdown.</summary>
public sealed partial class KeyHousekeeping(KeyRegistry keys, KeyOptions options, Cluster.ICoordinatorRole role, TimeProvider clock, ILogger<KeyHousekeeping> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(options.HousekeepingInterval, clock, stoppingToken);
                await keys.HousekeepAsync(stoppingToken, decide: role.Housekeeps);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                LogFailed(logger, e);
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await keys.FlushLastUsedAsync(cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Housekeeping pass failed; retrying next interval")]
    private static partial void LogFailed(ILogger logger, Exception e);
}
