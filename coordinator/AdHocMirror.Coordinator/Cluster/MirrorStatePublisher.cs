using AdHocMirror.Contracts.V1;
using AdHocMirror.Coordinator.Liveness;
using AdHocMirror.Coordinator.Mirrors;
using AdHocMirror.Coordinator.Storage;
using Google.Protobuf;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AdHocMirror.Coordinator.Cluster;

/// <summary>
/// Publishes the live state of the sessions this coordinator pings (state, versions, connections, last
/// ping) to their rows, batched every <see cref="ClusterOptions.ChangePollInterval"/>, so the others
/// offer a mirror when its pinging coordinator finds it online. A batch that cannot be written stays
/// queued until the database is back.
/// </summary>
public sealed partial class MirrorStatePublisher : BackgroundService
{
    private readonly IClusterStore _store;
    private readonly MirrorDirectory _directory;
    private readonly ICoordinatorRole _role;
    private readonly ClusterOptions _options;
    private readonly TimeProvider _clock;
    private readonly ILogger<MirrorStatePublisher> _logger;
    private readonly Lock _gate = new();
    private HashSet<string> _dirty = new(StringComparer.Ordinal);

    public MirrorStatePublisher(
        IClusterStore store, MirrorDirectory directory, PingScheduler pings, ICoordinatorRole role, ClusterOptions options, TimeProvider clock, ILogger<MirrorStatePublisher> logger)
    {
        _store = store;
        _directory = directory;
        _role = role;
        _options = options;
        _clock = clock;
        _logger = logger;
        pings.Pinged += Mark;
        directory.Changed += change =>
        {
            if (!change.Shared && _role.Pings(change.Mirror.KeyId))
            {
                Mark(change.Mirror.KeyId);
            }
        };
    }

    /// <summary>Writes what is queued now (tests call it to avoid waiting).</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        HashSet<string> batch;
        lock (_gate)
        {
            if (_dirty.Count == 0)
            {
                return;
            }

            (batch, _dirty) = (_dirty, new HashSet<string>(StringComparer.Ordinal));
        }

        var states = new List<MirrorStateRecord>();
        foreach (var keyId in batch)
        {
            if (_directory.Find(keyId) is { } mirror)
            {
                var versions = new ReportVersionRequest();
                versions.Versions.AddRange(mirror.Versions);
                states.Add(new MirrorStateRecord(keyId, mirror.SessionId, (int)mirror.State, versions.ToByteArray(), mirror.ActiveConnections, mirror.LastPing, mirror.LastPingMs));
            }
        }

        try
        {
            await _store.PublishMirrorStatesAsync(states, _role.Id, cancellationToken);
        }
        catch (Grpc.Core.RpcException)
        {
            lock (_gate)
            {
                _dirty.UnionWith(batch);
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(_options.ChangePollInterval, _clock, stoppingToken);
                await FlushAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                LogFailed(_logger, e);
            }
        }
    }

    private void Mark(string keyId)
    {
        lock (_gate)
        {
            _dirty.Add(keyId);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Publishing mirror states failed; retrying")]
    private static partial void LogFailed(ILogger logger, Exception e);
}
