using Npgsql;
using static AdHocMirror.Coordinator.Storage.PostgresCommands;

namespace AdHocMirror.Coordinator.Storage;

/// <summary>The <see cref="IClusterStore"/> half: change feed, point reads, live state and heartbeats.</summary>
public sealed partial class PostgresCoordinatorStore
{
    private const string SessionColumns = "key_id, session_id, session_secret, login, logged_in_at, latitude, longitude, place";
    private const string SharedColumns = SessionColumns + ", state, versions, active_connections, last_ping_at, last_ping_ms, pinged_by";
    private const string CoordinatorColumns = "id, public_address, admin_address, started_at, extract(epoch FROM now() - heartbeat_at)::double precision, sessions_pinged";

    public Task<IReadOnlyList<ChangeRecord>> ReadChangesAsync(long afterId, int limit, CancellationToken cancellationToken = default) =>
        ReadAsync(
            "SELECT id, kind, subject, at FROM changes WHERE id > $1 ORDER BY id LIMIT $2",
            r => new ChangeRecord(r.GetInt64(0), (ChangeKind)r.GetInt16(1), r.GetString(2), r.GetFieldValue<DateTimeOffset>(3)),
            cancellationToken, afterId, limit);

    public async Task<long> LastChangeIdAsync(CancellationToken cancellationToken = default) =>
        (await ReadAsync("SELECT coalesce(max(id), 0) FROM changes", r => r.GetInt64(0), cancellationToken)).Single();

    public async Task<KeyRecord?> LoadKeyAsync(string keyId, CancellationToken cancellationToken = default) =>
        (await ReadAsync($"SELECT {KeyColumns} FROM keys WHERE key_id = $1", ReadKey, cancellationToken, keyId)).SingleOrDefault();

    public async Task<BlacklistRecord?> LoadBlacklistEntryAsync(BlacklistKind kind, string subject, CancellationToken cancellationToken = default) =>
        (await ReadAsync("SELECT kind, subject, reason, since, until FROM blacklist WHERE kind = $1 AND subject = $2", ReadBlacklist, cancellationToken, (int)kind, subject)).SingleOrDefault();

    public async Task<QuarantineRecord?> LoadQuarantineEntryAsync(string keyId, CancellationToken cancellationToken = default) =>
        (await ReadAsync("SELECT key_id, reason, since, reporting_clients FROM quarantine WHERE key_id = $1", ReadQuarantine, cancellationToken, keyId)).SingleOrDefault();

    public async Task<SharedSession?> LoadSharedSessionAsync(string keyId, CancellationToken cancellationToken = default) =>
        (await ReadAsync($"SELECT {SharedColumns} FROM sessions WHERE key_id = $1", ReadShared, cancellationToken, keyId)).SingleOrDefault();

    public Task<IReadOnlyList<SharedSession>> LoadSharedSessionsAsync(CancellationToken cancellationToken = default) =>
        ReadAsync($"SELECT {SharedColumns} FROM sessions", ReadShared, cancellationToken);

    public async Task PublishMirrorStatesAsync(IReadOnlyCollection<MirrorStateRecord> states, string coordinatorId, CancellationToken cancellationToken = default)
    {
        if (states.Count == 0)
        {
            return;
        }

        await WriteAsync(async db =>
        {
            foreach (var s in states)
            {
                if (await db.ExecuteAsync(
                    "UPDATE sessions SET state = $1, versions = $2, active_connections = $3, last_ping_at = $4, last_ping_ms = $5, pinged_by = $6 WHERE key_id = $7 AND session_id = $8",
                    s.State, s.Versions, (long)s.ActiveConnections, Ms(s.LastPingAt), s.LastPingMs, coordinatorId, s.KeyId, s.SessionId) == 1)
                {
                    await db.ChangedAsync(ChangeKind.Session, s.KeyId);
                }
            }

            return 0;
        }, cancellationToken);
    }

    public Task<IReadOnlyList<CoordinatorRecord>> HeartbeatAsync(string coordinatorId, string publicAddress, string adminAddress, int sessionsPinged, CancellationToken cancellationToken = default) =>
        WriteAsync<IReadOnlyList<CoordinatorRecord>>(async db =>
        {
            await db.ExecuteAsync(
                """
                INSERT INTO coordinators (id, public_address, admin_address, sessions_pinged) VALUES ($1, $2, $3, $4)
                ON CONFLICT (id) DO UPDATE SET heartbeat_at = now(), public_address = excluded.public_address, admin_address = excluded.admin_address, sessions_pinged = excluded.sessions_pinged
                """,
                coordinatorId, publicAddress, adminAddress, sessionsPinged);
            return await db.ReadAsync($"SELECT {CoordinatorColumns} FROM coordinators ORDER BY id", ReadCoordinator);
        }, cancellationToken);

    public Task<IReadOnlyList<CoordinatorRecord>> ListCoordinatorsAsync(CancellationToken cancellationToken = default) =>
        ReadAsync($"SELECT {CoordinatorColumns} FROM coordinators ORDER BY id", ReadCoordinator, cancellationToken);

    public Task RemoveCoordinatorsAsync(string? coordinatorId, TimeSpan deadFor, CancellationToken cancellationToken = default) =>
        WriteAsync(
            db => coordinatorId is not null
                ? db.ExecuteAsync("DELETE FROM coordinators WHERE id = $1", coordinatorId)
                : db.ExecuteAsync("DELETE FROM coordinators WHERE heartbeat_at < now() - $1", deadFor),
            cancellationToken);

    public Task PruneChangesAsync(TimeSpan age, CancellationToken cancellationToken = default) =>
        WriteAsync(db => db.ExecuteAsync("DELETE FROM changes WHERE at < now() - $1", age), cancellationToken);

    private static SessionRecord ReadSession(NpgsqlDataReader r) => new(
        r.GetString(0), r.GetString(1), r.GetString(2), (byte[])r[3], Time(r.GetInt64(4)),
        r.IsDBNull(5) ? null : r.GetDouble(5), r.IsDBNull(6) ? null : r.GetDouble(6), r.GetString(7));

    private static SharedSession ReadShared(NpgsqlDataReader r) => new(
        ReadSession(r), r.GetInt32(8), r.IsDBNull(9) ? null : (byte[])r[9], (uint)Math.Clamp(r.GetInt64(10), 0, uint.MaxValue), Time(r, 11), r.GetDouble(12),
        r.IsDBNull(13) ? null : r.GetString(13));

    private static CoordinatorRecord ReadCoordinator(NpgsqlDataReader r) => new(
        r.GetString(0), r.GetString(1), r.GetString(2), r.GetFieldValue<DateTimeOffset>(3), TimeSpan.FromSeconds(Math.Max(0, r.GetDouble(4))), r.GetInt32(5));
}
