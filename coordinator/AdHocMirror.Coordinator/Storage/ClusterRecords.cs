namespace AdHocMirror.Coordinator.Storage;

/// <summary>What a change row says changed; the row's subject names the thing, whose current state is read back.</summary>
public enum ChangeKind : short
{
    Key = 1,
    Blacklist = 2,
    Session = 3,
    Quarantine = 4,
}

/// <summary>One committed change of shared state, in the order of the ids the database gave them.</summary>
public sealed record ChangeRecord(long Id, ChangeKind Kind, string Subject, DateTimeOffset At);

/// <summary>A session with the live state its pinging coordinator last published.</summary>
/// <param name="State">A <see cref="Contracts.V1.MirrorState"/> value; 0 before the first publication.</param>
/// <param name="Versions">A serialised <c>ReportVersionRequest</c> holding the versions, or null.</param>
public sealed record SharedSession(
    SessionRecord Session,
    int State,
    byte[]? Versions,
    uint ActiveConnections,
    DateTimeOffset? LastPingAt,
    double LastPingMs,
    string? PingedBy);

/// <summary>The live state of one session as its pinging coordinator publishes it.</summary>
public sealed record MirrorStateRecord(string KeyId, string SessionId, int State, byte[] Versions, uint ActiveConnections, DateTimeOffset? LastPingAt, double LastPingMs);

/// <summary>A coordinator's heartbeat row; <see cref="HeartbeatAge"/> is measured by the database's clock.</summary>
public sealed record CoordinatorRecord(string Id, string PublicAddress, string AdminAddress, DateTimeOffset StartedAt, TimeSpan HeartbeatAge, int SessionsPinged);

/// <summary>
/// What several coordinators on one database need beyond <see cref="ICoordinatorStore"/>: the change
/// feed, point reads of what a change names, published live state and heartbeats. Only the shared
/// (PostgreSQL) store has it; a coordinator on SQLite is alone.
/// </summary>
public interface IClusterStore : ICoordinatorStore
{
    /// <summary>Change rows with an id above <paramref name="afterId"/>, oldest first.</summary>
    Task<IReadOnlyList<ChangeRecord>> ReadChangesAsync(long afterId, int limit, CancellationToken cancellationToken = default);

    /// <summary>The id of the newest change row (0 when none): where a coordinator that just loaded everything starts following.</summary>
    Task<long> LastChangeIdAsync(CancellationToken cancellationToken = default);

    Task<BlacklistRecord?> LoadBlacklistEntryAsync(BlacklistKind kind, string subject, CancellationToken cancellationToken = default);

    Task<QuarantineRecord?> LoadQuarantineEntryAsync(string keyId, CancellationToken cancellationToken = default);

    Task<SharedSession?> LoadSharedSessionAsync(string keyId, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<SharedSession>> LoadSharedSessionsAsync(CancellationToken cancellationToken = default);

    /// <summary>Publishes live state in one transaction; a row whose session was replaced meanwhile is left alone.</summary>
    Task PublishMirrorStatesAsync(IReadOnlyCollection<MirrorStateRecord> states, string coordinatorId, CancellationToken cancellationToken = default);

    /// <summary>Writes this coordinator's heartbeat and returns every row with its age.</summary>
    Task<IReadOnlyList<CoordinatorRecord>> HeartbeatAsync(string coordinatorId, string publicAddress, string adminAddress, int sessionsPinged, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<CoordinatorRecord>> ListCoordinatorsAsync(CancellationToken cancellationToken = default);

    /// <summary>Removes the heartbeat row (clean shutdown) or the rows of coordinators dead for longer than <paramref name="deadFor"/>.</summary>
    Task RemoveCoordinatorsAsync(string? coordinatorId, TimeSpan deadFor, CancellationToken cancellationToken = default);

    /// <summary>Drops change rows older than <paramref name="age"/>; every coordinator has followed them long since.</summary>
    Task PruneChangesAsync(TimeSpan age, CancellationToken cancellationToken = default);
}
