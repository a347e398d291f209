using AdHocMirror.Daemon.Configuration;
using AdHocMirror.Daemon.Serving;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AdHocMirror.Daemon.Status;

/// <summary>Keeps <c>STATE_DIR/status.json</c> current: after every change (coalesced) and every few seconds for the connection count.</summary>
public sealed partial class StatusWriter(DaemonOptions options, MirrorState state, ServingSupervisor serving, TimeProvider clock, ILogger<StatusWriter> logger) : BackgroundService
{
    private static readonly TimeSpan Refresh = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan Coalesce = TimeSpan.FromMilliseconds(100);
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        state.Changed += OnChanged;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var changed = _changed;
                await Task.WhenAny(changed.Task, Task.Delay(Refresh, clock, stoppingToken));
                if (changed.Task.IsCompleted)
                {
                    await Task.Delay(Coalesce, clock, stoppingToken);
                    Interlocked.CompareExchange(ref _changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), changed);
                }

                Write(serving.ActiveConnections());
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            state.Changed -= OnChanged;
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        state.Update(s => s with { Session = s.Stopped is null ? "stopped" : s.Session, ActiveConnections = 0 });
        Write(0);
    }

    private void OnChanged() => _changed.TrySetResult();

    private void Write(int connections)
    {
        try
        {
            var status = state.Status;
            if (status.ActiveConnections != connections)
            {
                status = status with { ActiveConnections = connections };
            }

            StatusFile.Write(options.StatusFile, status);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogWriteFailed(logger, options.StatusFile, e.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot write the status file {Path}: {Detail}")]
    private static partial void LogWriteFailed(ILogger logger, string path, string detail);
}
