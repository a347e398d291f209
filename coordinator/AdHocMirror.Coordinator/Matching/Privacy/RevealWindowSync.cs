using System.Security.Cryptography;
using AdHocMirror.Coordinator.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AdHocMirror.Coordinator.Matching.Privacy;

/// <summary>
/// Fetches the shared secret of the current reveal window at start, and of the next one ahead of its start
/// (<see cref="PrivacyOptions.RevealSecretLead"/>), into <see cref="RevealWindows"/>: the store is asked here,
/// in the background, never on FindMirror's path. A failed fetch is retried until the window starts.
/// </summary>
public sealed partial class RevealWindowSync(RevealWindows windows, IRevealSecrets store, PrivacyOptions options, ILogger<RevealWindowSync> logger) : IHostedService, IDisposable
{
    /// <summary>One fetch's bound: the store's own timeouts are longer (they serve writes too).</summary>
    private static readonly TimeSpan FetchTimeout = TimeSpan.FromSeconds(5);
    private readonly CancellationTokenSource _stopping = new();
    private long _failedWindow = long.MinValue;
    private Task? _loop;

    private TimeSpan Lead => TimeSpan.FromTicks(Math.Min(options.RevealSecretLead.Ticks, options.RevealWindow.Ticks / 2));

    private TimeSpan RetryAfter => TimeSpan.FromTicks(Math.Clamp(Lead.Ticks / 10, TimeSpan.TicksPerMillisecond * 100, TimeSpan.TicksPerSecond * 10));

    /// <summary>Fetches the current window's secret (and the next one's when close) before listeners accept calls.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await FetchAsync(windows.Current, cancellationToken);
        _loop = RunAsync(_stopping.Token);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        if (_loop is not null)
        {
            await _loop.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    public void Dispose() => _stopping.Dispose();

    /// <summary>Gets (or creates) <paramref name="window"/>'s secret in the store and hands it to memory; false when the store did not answer.</summary>
    public async Task<bool> FetchAsync(long window, CancellationToken cancellationToken)
    {
        if (windows.Knows(window))
        {
            return true;
        }

        try
        {
            using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            bound.CancelAfter(FetchTimeout);
            // Real time, not the windows' clock: this bounds a real database call.
            var secret = await store.GetOrAddRevealSecretAsync(window, RandomNumberGenerator.GetBytes(32), bound.Token).WaitAsync(FetchTimeout, cancellationToken);
            windows.Offer(window, secret);
            return true;
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is TimeoutException or OperationCanceledException or InvalidOperationException or IOException or System.Data.Common.DbException or Grpc.Core.RpcException)
        {
            // Once per window: the store may stay away for the whole lead, retried every few seconds.
            if (Interlocked.Exchange(ref _failedWindow, window) != window)
            {
                LogFetchFailed(logger, window, e.Message);
            }

            return false;
        }
    }

    private async Task RunAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(await StepAsync(stopping), windows.Clock, stopping);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
        }
    }

    /// <summary>One round: fetches what is due, and says how long until the next is.</summary>
    private async Task<TimeSpan> StepAsync(CancellationToken stopping)
    {
        var current = windows.Current;
        var next = current + 1;
        var ok = await FetchAsync(current, stopping);
        var now = windows.Clock.GetUtcNow();
        var nextStart = windows.StartOf(next);
        if (nextStart - now <= Lead)
        {
            ok &= await FetchAsync(next, stopping);
            now = windows.Clock.GetUtcNow();
            if (ok)
            {
                // Next due: the lead before the window after next.
                return Max(windows.StartOf(next + 1) - Lead - now, TimeSpan.Zero);
            }
        }
        else if (ok)
        {
            return nextStart - Lead - now;
        }

        // Retry soon, but look again when the window turns.
        return Max(Min(RetryAfter, nextStart - now), TimeSpan.Zero);
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reveal window {Window}: the store did not give the shared secret ({Error}); trying again until the window starts")]
    private static partial void LogFetchFailed(ILogger logger, long window, string error);
}
