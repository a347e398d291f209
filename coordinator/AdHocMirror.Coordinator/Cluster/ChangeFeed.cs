using AdHocMirror.Coordinator.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AdHocMirror.Coordinator.Cluster;

/// <summary>
/// Follows the others: every <see cref="ClusterOptions.ChangePollInterval"/> it reads the change rows
/// after the last one applied and applies them, so a revoke, blacklist, quarantine, release, login or
/// logout made at any coordinator holds here within that interval (plus one read).
/// </summary>
/// <remarks>
/// Ids come from a sequence when a transaction inserts its row, and transactions commit in any order,
/// so a lower id can become visible after a higher one. The feed applies every row above its
/// watermark it has not applied yet, and moves the watermark only over ids it has seen, or over a hole
/// older than <see cref="GapWait"/> (a rolled-back transaction's id, which never appears).
/// </remarks>
public sealed partial class ChangeFeed(IClusterStore store, SharedStateApplier applier, ClusterOptions options, TimeProvider clock, ILogger<ChangeFeed> logger) : BackgroundService
{
    public static readonly TimeSpan GapWait = TimeSpan.FromSeconds(10);
    private const int Batch = 1000;
    private readonly SortedSet<long> _applied = [];
    private long _watermark;
    private DateTimeOffset? _gapSince;
    private DateTimeOffset? _awaySince;

    /// <summary>Starts following from now, after reloading what was loaded before the feed could follow.</summary>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        _watermark = await store.LastChangeIdAsync(cancellationToken);
        await applier.ResyncAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    /// <summary>One pass: reads and applies what is new (tests call it to avoid waiting).</summary>
    public async Task PollAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (_awaySince is { } since && clock.GetUtcNow() - since > options.ChangeRetention / 2)
            {
                // Rows may have been pruned while this coordinator was cut off: start again from everything.
                var last = await store.LastChangeIdAsync(cancellationToken);
                await applier.ResyncAsync(cancellationToken);
                (_watermark, _gapSince) = (last, null);
                _applied.Clear();
            }

            _awaySince = null;
            while (true)
            {
                var changes = await store.ReadChangesAsync(_watermark, Batch, cancellationToken);
                foreach (var change in changes)
                {
                    if (_applied.Add(change.Id))
                    {
                        await applier.ApplyAsync(change, cancellationToken);
                    }
                }

                Advance();
                if (changes.Count < Batch)
                {
                    break;
                }
            }
        }
        catch (Grpc.Core.RpcException)
        {
            _awaySince ??= clock.GetUtcNow();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(options.ChangePollInterval, clock, stoppingToken);
                await PollAsync(stoppingToken);
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

    private void Advance()
    {
        while (_applied.Count > 0)
        {
            var next = _applied.Min;
            if (next == _watermark + 1)
            {
                _watermark = next;
                _applied.Remove(next);
                _gapSince = null;
                continue;
            }

            var now = clock.GetUtcNow();
            _gapSince ??= now;
            if (now - _gapSince < GapWait)
            {
                return;
            }

            _watermark = next - 1; // the hole stayed empty: a transaction that rolled back
            _gapSince = null;
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Applying the other coordinators' changes failed; retrying")]
    private static partial void LogFailed(ILogger logger, Exception e);
}
