using Npgsql;
using static AdHocMirror.Coordinator.Storage.PostgresCommands;

namespace AdHocMirror.Coordinator.Storage;

/// <summary>
/// The shared store: several coordinators on one PostgreSQL database. Every mutating call is one
/// transaction that also writes its audit entry and a change row, committed (the server's
/// <c>synchronous_commit</c>, on by default, flushes it) before the caller is answered. A database
/// that cannot be reached turns into UNAVAILABLE (<see cref="StoreUnavailable"/>).
/// </summary>
public sealed partial class PostgresCoordinatorStore : ICoordinatorStore, IClusterStore, IRevealSecrets
{
    private const string KeyColumns = "key_id, secret_hash, issued_at, expires_at, last_used_at, status, ended_at, reason";
    private readonly NpgsqlDataSource _source;

    public PostgresCoordinatorStore(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        // A coordinator answers gRPC calls: waiting 15 s (Npgsql's default) for a database that is away
        // holds every write that long before it can say UNAVAILABLE.
        if (!builder.ContainsKey("Timeout"))
        {
            builder.Timeout = 3;
        }

        if (!builder.ContainsKey("Command Timeout"))
        {
            builder.CommandTimeout = 10;
        }

        Description = $"postgresql://{builder.Username}@{builder.Host}:{builder.Port}/{builder.Database}";
        _source = NpgsqlDataSource.Create(builder);
    }

    /// <summary>Where the store is, without the password.</summary>
    public string Description { get; }

    public static int SchemaVersion => PostgresSchema.Version;

    public Task OpenAsync(CancellationToken cancellationToken = default) =>
        Guard(async () =>
        {
            await PostgresSchema.MigrateAsync(_source, cancellationToken);
            return 0;
        });

    public Task<IReadOnlyList<KeyRecord>> LoadKeysAsync(CancellationToken cancellationToken = default) =>
        ReadAsync($"SELECT {KeyColumns} FROM keys", ReadKey, cancellationToken);

    public Task<bool> InsertKeyAsync(KeyRecord key, AuditRecord? audit, CancellationToken cancellationToken = default) =>
        WriteAsync(async db =>
        {
            if (!await InsertKeyAsync(db, key))
            {
                return false;
            }

            if (audit is not null)
            {
                await db.AuditAsync(audit);
            }

            return true;
        }, cancellationToken);

    public Task<long> UpdateKeyStateAsync(string keyId, KeyStatus status, DateTimeOffset endedAt, string reason, AuditRecord? audit, CancellationToken cancellationToken = default) =>
        WriteAsync(async db =>
        {
            await db.ExecuteAsync("UPDATE keys SET status = $1, ended_at = $2, reason = $3 WHERE key_id = $4", (int)status, Ms(endedAt), reason, keyId);
            await db.ExecuteAsync("DELETE FROM sessions WHERE key_id = $1", keyId);
            await db.ChangedAsync(ChangeKind.Key, keyId);
            await db.ChangedAsync(ChangeKind.Session, keyId);
            return audit is null ? 0 : await db.AuditAsync(audit);
        }, cancellationToken);

    public Task<bool> RotateKeyAsync(string oldKeyId, KeyRecord newKey, DateTimeOffset at, AuditRecord? audit, CancellationToken cancellationToken = default) =>
        WriteAsync(async db =>
        {
            if (!await InsertKeyAsync(db, newKey))
            {
                return false;
            }

            await db.ExecuteAsync("UPDATE keys SET status = $1, ended_at = $2, reason = 'rotated' WHERE key_id = $3", (int)KeyStatus.Retired, Ms(at), oldKeyId);
            await db.ExecuteAsync("UPDATE sessions SET key_id = $1 WHERE key_id = $2", newKey.KeyId, oldKeyId);
            await db.ExecuteAsync("UPDATE quarantine SET key_id = $1 WHERE key_id = $2", newKey.KeyId, oldKeyId);
            foreach (var id in (string[])[oldKeyId, newKey.KeyId])
            {
                await db.ChangedAsync(ChangeKind.Key, id);
                await db.ChangedAsync(ChangeKind.Quarantine, id);
                await db.ChangedAsync(ChangeKind.Session, id);
            }

            if (audit is not null)
            {
                await db.AuditAsync(audit);
            }

            return true;
        }, cancellationToken);

    public async Task TouchKeysAsync(IReadOnlyCollection<KeyValuePair<string, DateTimeOffset>> lastUsed, CancellationToken cancellationToken = default)
    {
        if (lastUsed.Count == 0)
        {
            return;
        }

        // One statement for the batch; greatest() because every coordinator flushes its own view of use.
        await WriteAsync(
            db => db.ExecuteAsync(
                "UPDATE keys SET last_used_at = greatest(keys.last_used_at, t.at) FROM unnest($1::text[], $2::bigint[]) AS t(id, at) WHERE keys.key_id = t.id",
                lastUsed.Select(p => p.Key).ToArray(), lastUsed.Select(p => Ms(p.Value)).ToArray()),
            cancellationToken);
    }

    public Task<IReadOnlyList<string>> PurgeTombstonesAsync(DateTimeOffset endedBefore, Func<string, AuditRecord> audit, CancellationToken cancellationToken = default) =>
        WriteAsync<IReadOnlyList<string>>(async db =>
        {
            var ids = await db.ReadAsync("DELETE FROM keys WHERE status <> $1 AND ended_at < $2 RETURNING key_id", r => r.GetString(0), (int)KeyStatus.Live, Ms(endedBefore));
            foreach (var id in ids)
            {
                await db.ExecuteAsync("DELETE FROM quarantine WHERE key_id = $1", id);
                await db.ChangedAsync(ChangeKind.Key, id);
                await db.ChangedAsync(ChangeKind.Quarantine, id);
                await db.AuditAsync(audit(id));
            }

            return ids;
        }, cancellationToken);

    public Task<IReadOnlyList<BlacklistRecord>> LoadBlacklistAsync(CancellationToken cancellationToken = default) =>
        ReadAsync("SELECT kind, subject, reason, since, until FROM blacklist", ReadBlacklist, cancellationToken);

    public Task<long> PutBlacklistAsync(BlacklistRecord entry, AuditRecord audit, CancellationToken cancellationToken = default) =>
        WriteAsync(async db =>
        {
            await db.ExecuteAsync(
                "INSERT INTO blacklist (kind, subject, reason, since, until) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (kind, subject) DO UPDATE SET reason = excluded.reason, since = excluded.since, until = excluded.until",
                (int)entry.Kind, entry.Subject, entry.Reason, Ms(entry.Since), Ms(entry.Until));
            if (entry.Kind == BlacklistKind.Key)
            {
                await db.ExecuteAsync("DELETE FROM sessions WHERE key_id = $1", entry.Subject);
                await db.ChangedAsync(ChangeKind.Session, entry.Subject);
            }

            await db.ChangedAsync(ChangeKind.Blacklist, BlacklistSubject(entry.Kind, entry.Subject));
            return await db.AuditAsync(audit);
        }, cancellationToken);

    public Task<long> RemoveBlacklistAsync(BlacklistKind kind, string subject, AuditRecord audit, CancellationToken cancellationToken = default) =>
        WriteAsync(async db =>
        {
            if (await db.ExecuteAsync("DELETE FROM blacklist WHERE kind = $1 AND subject = $2", (int)kind, subject) == 0)
            {
                return -1;
            }

            await db.ChangedAsync(ChangeKind.Blacklist, BlacklistSubject(kind, subject));
            return await db.AuditAsync(audit);
        }, cancellationToken);

    public Task<IReadOnlyList<SessionRecord>> LoadSessionsAsync(CancellationToken cancellationToken = default) =>
        ReadAsync($"SELECT {SessionColumns} FROM sessions", ReadSession, cancellationToken);

    public Task SaveSessionAsync(SessionRecord session, CancellationToken cancellationToken = default) =>
        WriteAsync(async db =>
        {
            // A new login starts with no live state: the coordinator that pings it publishes that.
            await db.ExecuteAsync(
                """
                INSERT INTO sessions (key_id, session_id, session_secret, login, logged_in_at, latitude, longitude, place) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                ON CONFLICT (key_id) DO UPDATE SET session_id = excluded.session_id, session_secret = excluded.session_secret, login = excluded.login,
                    logged_in_at = excluded.logged_in_at, latitude = excluded.latitude, longitude = excluded.longitude, place = excluded.place,
                    state = 0, versions = NULL, active_connections = 0, last_ping_at = NULL, last_ping_ms = 0, pinged_by = NULL
                """,
                session.KeyId, session.SessionId, session.SessionSecret, session.Login, Ms(session.LoggedInAt), session.Latitude, session.Longitude, session.Place);
            return await db.ChangedAsync(ChangeKind.Session, session.KeyId);
        }, cancellationToken);

    public Task DeleteSessionAsync(string keyId, string? sessionId, CancellationToken cancellationToken = default) =>
        WriteAsync(async db =>
        {
            var deleted = sessionId is null
                ? await db.ExecuteAsync("DELETE FROM sessions WHERE key_id = $1", keyId)
                : await db.ExecuteAsync("DELETE FROM sessions WHERE key_id = $1 AND session_id = $2", keyId, sessionId);
            return deleted == 0 ? 0 : await db.ChangedAsync(ChangeKind.Session, keyId);
        }, cancellationToken);

    public Task<IReadOnlyList<QuarantineRecord>> LoadQuarantineAsync(CancellationToken cancellationToken = default) =>
        ReadAsync("SELECT key_id, reason, since, reporting_clients FROM quarantine", ReadQuarantine, cancellationToken);

    public Task<long> PutQuarantineAsync(QuarantineRecord entry, AuditRecord audit, CancellationToken cancellationToken = default) =>
        WriteAsync(async db =>
        {
            await db.ExecuteAsync(
                "INSERT INTO quarantine (key_id, reason, since, reporting_clients) VALUES ($1, $2, $3, $4) ON CONFLICT (key_id) DO UPDATE SET reason = excluded.reason, since = excluded.since, reporting_clients = excluded.reporting_clients",
                entry.KeyId, entry.Reason, Ms(entry.Since), entry.ReportingClients);
            await db.ChangedAsync(ChangeKind.Quarantine, entry.KeyId);
            return await db.AuditAsync(audit);
        }, cancellationToken);

    public Task<long> RemoveQuarantineAsync(string keyId, AuditRecord audit, CancellationToken cancellationToken = default) =>
        WriteAsync(async db =>
        {
            if (await db.ExecuteAsync("DELETE FROM quarantine WHERE key_id = $1", keyId) == 0)
            {
                return -1;
            }

            await db.ChangedAsync(ChangeKind.Quarantine, keyId);
            return await db.AuditAsync(audit);
        }, cancellationToken);

    public Task<long> AppendAuditAsync(AuditRecord audit, CancellationToken cancellationToken = default) =>
        WriteAsync(db => db.AuditAsync(audit), cancellationToken);

    public Task<IReadOnlyList<AuditRecord>> ListAuditAsync(int limit, long beforeId, CancellationToken cancellationToken = default) =>
        ReadAsync(
            "SELECT id, at, actor, action, subject, reason FROM audit WHERE $1 = 0 OR id < $1 ORDER BY id DESC LIMIT $2",
            r => new AuditRecord(Time(r.GetInt64(1)), r.GetString(2), r.GetString(3), r.GetString(4), r.GetString(5), r.GetInt64(0)),
            cancellationToken, beforeId, limit);

    public void Dispose() => _source.Dispose();

    /// <summary>The first coordinator to ask for a window stores its proposal; every other one reads that.</summary>
    public Task<byte[]> GetOrAddRevealSecretAsync(long window, byte[] proposed, CancellationToken cancellationToken = default) =>
        WriteAsync(async db =>
        {
            await db.ExecuteAsync("DELETE FROM reveal_windows WHERE number < $1", window - 1);
            await db.ExecuteAsync("INSERT INTO reveal_windows (number, secret) VALUES ($1, $2) ON CONFLICT (number) DO NOTHING", window, proposed);
            return (byte[])(await db.ScalarAsync("SELECT secret FROM reveal_windows WHERE number = $1", window))!;
        }, cancellationToken);

    private static async Task<bool> InsertKeyAsync(PostgresCommands db, KeyRecord key) =>
        await db.ExecuteAsync(
            $"INSERT INTO keys ({KeyColumns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (key_id) DO NOTHING",
            key.KeyId, key.SecretHash, Ms(key.IssuedAt), Ms(key.ExpiresAt), Ms(key.LastUsedAt), (int)key.Status, Ms(key.EndedAt), key.Reason) == 1
        && await db.ChangedAsync(ChangeKind.Key, key.KeyId) == 1;

    private static KeyRecord ReadKey(NpgsqlDataReader r) => new(
        r.GetString(0), (byte[])r[1], Time(r.GetInt64(2)), Time(r.GetInt64(3)), Time(r.GetInt64(4)), (KeyStatus)r.GetInt32(5), Time(r, 6), r.GetString(7));

    private static BlacklistRecord ReadBlacklist(NpgsqlDataReader r) =>
        new((BlacklistKind)r.GetInt32(0), r.GetString(1), r.GetString(2), Time(r.GetInt64(3)), Time(r, 4));

    private static QuarantineRecord ReadQuarantine(NpgsqlDataReader r) => new(r.GetString(0), r.GetString(1), Time(r.GetInt64(2)), r.GetInt32(3));

    private async Task<T> WriteAsync<T>(Func<PostgresCommands, Task<T>> work, CancellationToken cancellationToken) =>
        await Guard(async () =>
        {
            await using var connection = await _source.OpenConnectionAsync(cancellationToken);
            await using var tx = await connection.BeginTransactionAsync(cancellationToken);
            var result = await work(new PostgresCommands(connection, tx));
            await tx.CommitAsync(cancellationToken);
            return result;
        });

    private Task<IReadOnlyList<T>> ReadAsync<T>(string sql, Func<NpgsqlDataReader, T> map, CancellationToken cancellationToken, params object?[] parameters) =>
        Guard<IReadOnlyList<T>>(async () =>
        {
            await using var connection = await _source.OpenConnectionAsync(cancellationToken);
            return await new PostgresCommands(connection, null).ReadAsync(sql, map, parameters);
        });

    private static async Task<T> Guard<T>(Func<Task<T>> work)
    {
        try
        {
            return await work();
        }
        catch (Exception e) when (StoreUnavailable.Is(e))
        {
            throw StoreUnavailable.From(e);
        }
    }
}
