using AdHocMirror.Coordinator.Hosting;
using AdHocMirror.Coordinator.Mirrors;
using AdHocMirror.Coordinator.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AdHocMirror.Coordinator.Cluster;

/// <summary>
/// Writes this coordinator's heartbeat row and reads everyone's: the coordinators whose heartbeat is
/// younger than <see cref="ClusterOptions.DeadAfter"/> (by the database's clock, so the machines'
/// clocks do not matter) are the live set. From it follow who pings which session (rendezvous hashing:
/// the same answer everywhere, no coordination), the capacity shares, and the one coordinator (the
/// oldest) that keeps house. While the database is away the last live set stays.
/// </summary>
public sealed partial class ClusterMembership : BackgroundService, ICoordinatorRole
{
    private static readonly TimeSpan CleanupEvery = TimeSpan.FromMinutes(1);
    private readonly IClusterStore _store;
    private readonly ClusterOptions _options;
    private readonly CoordinatorOptions _coordinator;
    private readonly MirrorDirectory _directory;
    private readonly CapacityShares _shares;
    private readonly TimeProvider _clock;
    private readonly ILogger<ClusterMembership> _logger;
    private volatile string[] _live;
    private volatile IReadOnlyList<CoordinatorRecord> _roster = [];
    private volatile bool _housekeeps;
    private DateTimeOffset _lastCleanup;
    private bool _away;

    public ClusterMembership(
        IClusterStore store, ClusterOptions options, CoordinatorOptions coordinator, MirrorDirectory directory, CapacityShares shares, ClusterIdentity identity,
        TimeProvider clock, ILogger<ClusterMembership> logger)
    {
        _store = store;
        _options = options;
        _coordinator = coordinator;
        _directory = directory;
        _shares = shares;
        _clock = clock;
        _logger = logger;
        Id = identity.Id;
        _live = [Id];
    }

    public event Action<Func<string, bool>>? Gained;

    public string Id { get; }

    public bool Housekeeps => _housekeeps;

    /// <summary>The live coordinators' ids, sorted.</summary>
    public IReadOnlyList<string> Live => _live;

    public bool Pings(string keyId) => RendezvousHash.Owner(_live, keyId) == Id;

    public async Task<IReadOnlyList<CoordinatorRecord>> ListAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await _store.ListCoordinatorsAsync(cancellationToken);
        }
        catch (Grpc.Core.RpcException)
        {
            return _roster; // the last rows read, ages as they were then
        }
    }

    /// <summary>Joins: the first heartbeat before any listener answers, so this coordinator never thinks itself alone.</summary>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await BeatAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    /// <summary>Leaves cleanly: deleting the row hands this coordinator's sessions to the others at their next heartbeat.</summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        try
        {
            await _store.RemoveCoordinatorsAsync(Id, TimeSpan.Zero, cancellationToken);
        }
        catch (Exception e) when (e is Grpc.Core.RpcException or OperationCanceledException)
        {
            // The database is away: the others will take this one for dead after DeadAfter.
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(_options.HeartbeatInterval, _clock, stoppingToken);
                await BeatAsync(stoppingToken);
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

    private async Task BeatAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<CoordinatorRecord> rows;
        try
        {
            var pinged = _directory.List().Count(m => Pings(m.KeyId));
            rows = await _store.HeartbeatAsync(Id, _options.Advertise ?? $"http://{_coordinator.Listen}", $"http://{_coordinator.AdminListen}", pinged, cancellationToken);
        }
        catch (Grpc.Core.RpcException e)
        {
            if (!_away)
            {
                _away = true;
                LogAway(_logger, e.Status.Detail);
            }

            return;
        }

        if (_away)
        {
            _away = false;
            LogBack(_logger);
        }

        _roster = rows;
        var alive = rows.Where(r => r.Id == Id || r.HeartbeatAge < _options.DeadAfter).ToList();
        string[] live = [.. alive.Select(r => r.Id).Order(StringComparer.Ordinal)];
        _housekeeps = alive.OrderBy(r => r.StartedAt).ThenBy(r => r.Id, StringComparer.Ordinal).First().Id == Id;
        var before = _live;
        if (!live.SequenceEqual(before))
        {
            _live = live;
            LogView(_logger, string.Join(", ", live));
            _shares.Update(live);
            Gained?.Invoke(keyId => RendezvousHash.Owner(live, keyId) == Id && RendezvousHash.Owner(before, keyId) != Id);
        }
        else
        {
            _shares.Update(live); // the first view
        }

        var now = _clock.GetUtcNow();
        if (_housekeeps && now - _lastCleanup >= CleanupEvery)
        {
            _lastCleanup = now;
            await _store.RemoveCoordinatorsAsync(null, _options.DeadAfter * 30, cancellationToken);
            await _store.PruneChangesAsync(_options.ChangeRetention, cancellationToken);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Live coordinators: {Coordinators}")]
    private static partial void LogView(ILogger logger, string coordinators);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Database unreachable ({Detail}); answering from memory, refusing writes, retrying")]
    private static partial void LogAway(ILogger logger, string detail);

    [LoggerMessage(Level = LogLevel.Information, Message = "Database reachable again")]
    private static partial void LogBack(ILogger logger);

    [LoggerMessage(Level = LogLevel.Error, Message = "Heartbeat failed")]
    private static partial void LogFailed(ILogger logger, Exception e);
}

/// <summary>This coordinator's id in the heartbeat rows: random per start, names nothing about the machine.</summary>
public sealed class ClusterIdentity
{
    public string Id { get; } = Keys.KeyMaterial.NewId()[..12];
}
