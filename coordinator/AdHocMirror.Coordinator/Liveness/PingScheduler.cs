using System.Diagnostics;
using System.Security.Cryptography;
using AdHocMirror.Contracts;
using AdHocMirror.Contracts.V1;
using AdHocMirror.Coordinator.Edge;
using AdHocMirror.Coordinator.Keys;
using AdHocMirror.Coordinator.Mirrors;
using AdHocMirror.Coordinator.Observability;
using AdHocMirror.Coordinator.Sessions;
using AdHocMirror.Clients;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AdHocMirror.Coordinator.Liveness;

/// <summary>
/// Pings every session's advertised address with a fresh nonce and applies the answer to the directory.
/// Each session has one planned due time, jittered around the interval, so 10,000 sessions spread over
/// the interval instead of bursting; a semaphore bounds the pings in flight. Timers go through the
/// injected <see cref="TimeProvider"/>; the ping itself is real network time with its own timeout.
/// </summary>
public sealed partial class PingScheduler(
    MirrorDirectory directory,
    KeyRegistry keys,
    PingOptions options,
    Cluster.ICoordinatorRole role,
    CoordinatorMetrics metrics,
    TimeProvider clock,
    ILogger<PingScheduler> logger) : BackgroundService
{
    private const uint MaxActiveConnections = 10 * LoginValidation.MaxClientsLimit;
    private static readonly TimeSpan ChannelIdleLimit = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan MinimumSleep = TimeSpan.FromMilliseconds(1);
    private readonly Lock _gate = new();
    private readonly PriorityQueue<(string KeyId, string SessionId, DateTimeOffset Due), DateTimeOffset> _queue = new();
    private readonly Dictionary<string, (string SessionId, DateTimeOffset Due)> _planned = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (GrpcChannel Channel, DateTimeOffset LastUsed)> _channels = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _slots = new(options.MaxConcurrency, options.MaxConcurrency);
    private TaskCompletionSource _planChanged = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private DateTimeOffset _lastSweep;
    private bool _following;

    /// <summary>Raised after each ping this coordinator made, with the key it pinged.</summary>
    public event Action<string>? Pinged;

    /// <summary>Pings a session as soon as possible (after login, after release from quarantine).</summary>
    public void PingSoon(string keyId, string sessionId)
    {
        Plan(keyId, sessionId, clock.GetUtcNow());
    }

    /// <summary>Plans the first ping of a restored session somewhere in the next interval, so a restart does not burst.</summary>
    public void PingWithin(string keyId, string sessionId, TimeSpan spread) =>
        Plan(keyId, sessionId, clock.GetUtcNow() + spread * Random.Shared.NextDouble());

    /// <summary>The next planned ping of each key (for tests and diagnostics).</summary>
    internal IReadOnlyDictionary<string, DateTimeOffset> Planned()
    {
        lock (_gate)
        {
            return _planned.ToDictionary(p => p.Key, p => p.Value.Due, StringComparer.Ordinal);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_following)
        {
            _following = true;
            role.Gained += TakeOver;
        }

        _lastSweep = clock.GetUtcNow();
        var inFlight = new List<Task>();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                Task planChanged;
                lock (_gate)
                {
                    planChanged = _planChanged.Task;
                }

                var next = await StartDuePingsAsync(inFlight, stoppingToken);
                SweepChannels();

                // Sleep until the earliest planned ping (no polling while idle), or until a plan changes.
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                // Never a zero delay: a timer may round down to whole milliseconds, and an already
                // completed delay would spin this loop without ever letting the clock move.
                var sleep = next is { } due ? Task.Delay(Max(due - clock.GetUtcNow(), MinimumSleep), clock, wait.Token) : Task.Delay(Timeout.Infinite, wait.Token);
                await Task.WhenAny(sleep, planChanged).WaitAsync(stoppingToken);
                wait.Cancel();
                inFlight.RemoveAll(t => t.IsCompleted);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                LogSchedulerFailed(logger, e);
            }
        }

        await Task.WhenAll(inFlight).WaitAsync(TimeSpan.FromSeconds(10), CancellationToken.None).ContinueWith(_ => { }, TaskScheduler.Default);
    }

    public override void Dispose()
    {
        lock (_gate)
        {
            foreach (var (channel, _) in _channels.Values)
            {
                channel.Dispose();
            }

            _channels.Clear();
        }

        base.Dispose();
    }

    private void Plan(string keyId, string sessionId, DateTimeOffset due)
    {
        lock (_gate)
        {
            // One planned ping per key: a newer plan for the same session only moves it earlier.
            if (_planned.TryGetValue(keyId, out var existing) && existing.SessionId == sessionId && existing.Due <= due)
            {
                return;
            }

            _planned[keyId] = (sessionId, due);
            _queue.Enqueue((keyId, sessionId, due), due);
            _planChanged.TrySetResult();
            _planChanged = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    /// <returns>When the next planned ping is due, or null when none is planned.</returns>
    private async Task<DateTimeOffset?> StartDuePingsAsync(List<Task> inFlight, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        while (true)
        {
            (string KeyId, string SessionId, DateTimeOffset Due) item;
            lock (_gate)
            {
                if (!_queue.TryPeek(out item, out var due))
                {
                    return null;
                }

                if (due > now)
                {
                    return due;
                }

                _queue.Dequeue();
                if (!_planned.TryGetValue(item.KeyId, out var plan) || plan.SessionId != item.SessionId || plan.Due != item.Due)
                {
                    continue; // superseded by a newer plan
                }

                _planned.Remove(item.KeyId);
            }

            if (directory.Find(item.KeyId) is not { } mirror || mirror.SessionId != item.SessionId || directory.SecretOf(item.KeyId, item.SessionId) is not { } secret)
            {
                continue; // logged out, superseded or revoked meanwhile
            }

            if (!role.Pings(item.KeyId))
            {
                // Another coordinator pings it; the plan stays, so that this one is ready if it takes over.
                Plan(item.KeyId, item.SessionId, now + Jittered());
                continue;
            }

            await _slots.WaitAsync(cancellationToken);
            inFlight.Add(Task.Run(
                async () =>
                {
                    try
                    {
                        await PingAsync(mirror, secret, cancellationToken);
                    }
                    finally
                    {
                        _slots.Release();
                    }
                },
                CancellationToken.None));
        }
    }

    private async Task PingAsync(MirrorView mirror, byte[] secret, CancellationToken cancellationToken)
    {
        var nonce = RandomNumberGenerator.GetBytes(32);
        var started = Stopwatch.GetTimestamp();
        PingReply? good = null;
        string result;
        try
        {
            var client = new MirrorPing.MirrorPingClient(ChannelFor(mirror.Endpoints.PingAddress));
            var reply = await client.PingAsync(
                new PingRequest { Nonce = Google.Protobuf.ByteString.CopyFrom(nonce), SessionId = mirror.SessionId },
                Calls.WithTimeout(options.Timeout, cancellationToken: cancellationToken));
            if (!PingProof.Verify(secret, nonce, mirror.SessionId, reply.Proof.Span))
            {
                result = "forged";
                LogForged(logger, mirror.KeyId);
            }
            else
            {
                // A valid proof does not make the rest true: an answer we could not store or show is a failed ping.
                LoginValidation.CheckVersions(reply.Versions, clock.GetUtcNow());
                if (reply.ActiveConnections > MaxActiveConnections)
                {
                    throw FieldRules.Invalid($"active_connections must be at most {MaxActiveConnections}");
                }

                good = reply;
                result = "ok";
            }
        }
        catch (RpcException e) when (!cancellationToken.IsCancellationRequested)
        {
            result = "failed";
            LogPingFailed(logger, mirror.KeyId, e.StatusCode, InputText.Escape(e.Status.Detail.Length > 200 ? e.Status.Detail[..200] : e.Status.Detail));
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            result = "failed";
            LogPingFailed(logger, mirror.KeyId, StatusCode.Unknown, e.Message);
        }

        var elapsed = Stopwatch.GetElapsedTime(started);
        metrics.Pings.Inc(result);
        if (good is not null)
        {
            metrics.PingLatency.Observe(elapsed.TotalSeconds);
        }

        var state = directory.RecordPing(mirror.KeyId, mirror.SessionId, new PingOutcome(clock.GetUtcNow(), elapsed.TotalMilliseconds, good), options.FailuresToOffline);
        if (state is null)
        {
            return;
        }

        Pinged?.Invoke(mirror.KeyId);

        if (good is not null)
        {
            keys.MarkUsed(mirror.KeyId);
        }

        if (state != mirror.State)
        {
            LogStateChanged(logger, mirror.KeyId, mirror.State, state.Value);
        }

        Plan(mirror.KeyId, mirror.SessionId, clock.GetUtcNow() + Jittered());
    }

    /// <summary>Sessions another coordinator pinged until it died or left: pinged soon, spread over a tenth of the interval.</summary>
    private void TakeOver(Func<string, bool> gained)
    {
        List<(string KeyId, string SessionId)> taken;
        lock (_gate)
        {
            taken = _planned.Where(p => gained(p.Key)).Select(p => (p.Key, p.Value.SessionId)).ToList();
        }

        var now = clock.GetUtcNow();
        foreach (var (keyId, sessionId) in taken)
        {
            Plan(keyId, sessionId, now + (options.Interval / 10 * Random.Shared.NextDouble()));
        }
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private TimeSpan Jittered() => options.Interval * (1 + (options.Jitter * ((Random.Shared.NextDouble() * 2) - 1)));

    private GrpcChannel ChannelFor(string address)
    {
        var now = clock.GetUtcNow();
        lock (_gate)
        {
            if (!_channels.TryGetValue(address, out var entry))
            {
                entry = (GrpcChannels.Create(address, new ChannelSettings { ConnectTimeout = options.Timeout, MaxReceiveMessageSize = 64 * 1024, RetryIdempotentCalls = false }), now);
            }

            _channels[address] = (entry.Channel, now);
            return entry.Channel;
        }
    }

    private void SweepChannels()
    {
        var now = clock.GetUtcNow();
        if (now - _lastSweep < ChannelIdleLimit)
        {
            return;
        }

        _lastSweep = now;
        var idleLimit = ChannelIdleLimit > options.Interval * 3 ? ChannelIdleLimit : options.Interval * 3;
        lock (_gate)
        {
            foreach (var (address, entry) in _channels.ToList())
            {
                if (now - entry.LastUsed > idleLimit)
                {
                    _channels.Remove(address);
                    entry.Channel.Dispose();
                }
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Mirror {KeyId}: {From} -> {To}")]
    private static partial void LogStateChanged(ILogger logger, string keyId, MirrorState from, MirrorState to);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Mirror {KeyId} answered a ping with a wrong proof")]
    private static partial void LogForged(ILogger logger, string keyId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Ping of mirror {KeyId} failed: {Code} {Detail}")]
    private static partial void LogPingFailed(ILogger logger, string keyId, StatusCode code, string detail);

    [LoggerMessage(Level = LogLevel.Error, Message = "Ping scheduler pass failed")]
    private static partial void LogSchedulerFailed(ILogger logger, Exception e);
}
