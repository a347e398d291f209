using Microsoft.Data.Sqlite;

namespace AdHocMirror.Coordinator.Storage;

/// <summary>
/// The embedded store: one SQLite file in WAL mode with <c>synchronous=FULL</c>, so a committed
/// transaction is on disk (WAL fsynced) before the caller is answered, and survives kill -9 and
/// power loss. One connection serialised by a lock: writes are few (registrations, admin actions,
/// logins) and the hot paths read from memory.
/// </summary>
public sealed class SqliteCoordinatorStore : ICoordinatorStore, IRevealSecrets
{
    /// <summary>Ordered migrations; <c>PRAGMA user_version</c> is the number applied. Never edit one that shipped: append.</summary>
    private static readonly string[] Migrations =
    [
        """
        CREATE TABLE keys (
            key_id TEXT PRIMARY KEY,
            secret_hash BLOB NOT NULL,
            issued_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            last_used_at INTEGER NOT NULL,
            status INTEGER NOT NULL,
            ended_at INTEGER,
            reason TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX keys_status ON keys(status, ended_at);
        CREATE TABLE blacklist (
            kind INTEGER NOT NULL,
            subject TEXT NOT NULL,
            reason TEXT NOT NULL,
            since INTEGER NOT NULL,
            until INTEGER,
            PRIMARY KEY (kind, subject)
        );
        CREATE TABLE sessions (
            key_id TEXT PRIMARY KEY,
            session_id TEXT NOT NULL,
            session_secret TEXT NOT NULL,
            login BLOB NOT NULL,
            logged_in_at INTEGER NOT NULL,
            latitude REAL,
            longitude REAL,
            place TEXT NOT NULL DEFAULT ''
        );
        CREATE TABLE quarantine (
            key_id TEXT PRIMARY KEY,
            reason TEXT NOT NULL,
            since INTEGER NOT NULL,
            reporting_clients INTEGER NOT NULL
        );
        CREATE TABLE audit (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            at INTEGER NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            subject TEXT NOT NULL,
            reason TEXT NOT NULL
        );
        """,
        // The reveal windows' secrets (IRevealSecrets): at most the current and the previous window.
        """
        CREATE TABLE reveal_windows (
            number INTEGER PRIMARY KEY,
            secret BLOB NOT NULL
        );
        """,
    ];

    private readonly Lock _gate = new();
    private readonly SqliteConnection _connection;

    public SqliteCoordinatorStore(string path)
    {
        Path = path;
        var builder = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
            DefaultTimeout = 30,
        };
        _connection = new SqliteConnection(builder.ToString());
    }

    public string Path { get; }

    public static int SchemaVersion => Migrations.Length;

    public Task OpenAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            _connection.Open();
            Execute("PRAGMA journal_mode=WAL;");
            Execute("PRAGMA synchronous=FULL;");
            Execute("PRAGMA busy_timeout=5000;");
            Execute("PRAGMA foreign_keys=ON;");
            var version = Convert.ToInt32(Scalar("PRAGMA user_version;"), System.Globalization.CultureInfo.InvariantCulture);
            if (version > Migrations.Length)
            {
                throw new InvalidOperationException($"{Path} has schema version {version}, newer than this coordinator knows ({Migrations.Length}).");
            }

            for (var i = version; i < Migrations.Length; i++)
            {
                using var tx = _connection.BeginTransaction();
                Execute(Migrations[i], tx);
                Execute($"PRAGMA user_version={i + 1};", tx);
                tx.Commit();
            }
        }

        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<KeyRecord>> LoadKeysAsync(CancellationToken cancellationToken = default) =>
        Read("SELECT key_id, secret_hash, issued_at, expires_at, last_used_at, status, ended_at, reason FROM keys", r => new KeyRecord(
            r.GetString(0), (byte[])r[1], Time(r.GetInt64(2)), Time(r.GetInt64(3)), Time(r.GetInt64(4)), (KeyStatus)r.GetInt32(5),
            r.IsDBNull(6) ? null : Time(r.GetInt64(6)), r.GetString(7)));

    public async Task<KeyRecord?> LoadKeyAsync(string keyId, CancellationToken cancellationToken = default) =>
        (await Read("SELECT key_id, secret_hash, issued_at, expires_at, last_used_at, status, ended_at, reason FROM keys WHERE key_id = $id", r => new KeyRecord(
            r.GetString(0), (byte[])r[1], Time(r.GetInt64(2)), Time(r.GetInt64(3)), Time(r.GetInt64(4)), (KeyStatus)r.GetInt32(5),
            r.IsDBNull(6) ? null : Time(r.GetInt64(6)), r.GetString(7)), ("$id", keyId))).SingleOrDefault();

    public Task<bool> InsertKeyAsync(KeyRecord key, AuditRecord? audit, CancellationToken cancellationToken = default) =>
        Task.FromResult(Write(tx =>
        {
            if (Scalar("SELECT 1 FROM keys WHERE key_id = $id", tx, ("$id", key.KeyId)) is not null)
            {
                return false;
            }

            InsertKey(key, tx);
            if (audit is not null)
            {
                InsertAudit(audit, tx);
            }

            return true;
        }));

    public Task<long> UpdateKeyStateAsync(string keyId, KeyStatus status, DateTimeOffset endedAt, string reason, AuditRecord? audit, CancellationToken cancellationToken = default) =>
        Task.FromResult(Write(tx =>
        {
            Execute("UPDATE keys SET status = $s, ended_at = $e, reason = $r WHERE key_id = $id", tx,
                ("$s", (int)status), ("$e", Ms(endedAt)), ("$r", reason), ("$id", keyId));
            Execute("DELETE FROM sessions WHERE key_id = $id", tx, ("$id", keyId));
            return audit is null ? 0 : InsertAudit(audit, tx);
        }));

    public Task<bool> RotateKeyAsync(string oldKeyId, KeyRecord newKey, DateTimeOffset at, AuditRecord? audit, CancellationToken cancellationToken = default) =>
        Task.FromResult(Write(tx =>
        {
            if (Scalar("SELECT 1 FROM keys WHERE key_id = $id", tx, ("$id", newKey.KeyId)) is not null)
            {
                return false;
            }

            InsertKey(newKey, tx);
            Execute("UPDATE keys SET status = $s, ended_at = $e, reason = 'rotated' WHERE key_id = $id", tx,
                ("$s", (int)KeyStatus.Retired), ("$e", Ms(at)), ("$id", oldKeyId));
            Execute("UPDATE sessions SET key_id = $new WHERE key_id = $old", tx, ("$new", newKey.KeyId), ("$old", oldKeyId));
            Execute("UPDATE quarantine SET key_id = $new WHERE key_id = $old", tx, ("$new", newKey.KeyId), ("$old", oldKeyId));
            if (audit is not null)
            {
                InsertAudit(audit, tx);
            }

            return true;
        }));

    public Task TouchKeysAsync(IReadOnlyCollection<KeyValuePair<string, DateTimeOffset>> lastUsed, CancellationToken cancellationToken = default)
    {
        if (lastUsed.Count > 0)
        {
            Write(tx =>
            {
                using var command = _connection.CreateCommand();
                command.Transaction = tx;
                command.CommandText = "UPDATE keys SET last_used_at = max(last_used_at, $t) WHERE key_id = $id";
                var t = command.Parameters.Add("$t", SqliteType.Integer);
                var id = command.Parameters.Add("$id", SqliteType.Text);
                foreach (var (keyId, at) in lastUsed)
                {
                    t.Value = Ms(at);
                    id.Value = keyId;
                    command.ExecuteNonQuery();
                }

                return 0;
            });
        }

        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<string>> PurgeTombstonesAsync(DateTimeOffset endedBefore, Func<string, AuditRecord> audit, CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<string>>(Write(tx =>
        {
            var ids = new List<string>();
            using (var command = Command("SELECT key_id FROM keys WHERE status <> $live AND ended_at < $before", tx, ("$live", (int)KeyStatus.Live), ("$before", Ms(endedBefore))))
            using (var reader = command.ExecuteReader())
            {
                while (reader.Read())
                {
                    ids.Add(reader.GetString(0));
                }
            }

            foreach (var id in ids)
            {
                Execute("DELETE FROM keys WHERE key_id = $id", tx, ("$id", id));
                Execute("DELETE FROM quarantine WHERE key_id = $id", tx, ("$id", id));
                InsertAudit(audit(id), tx);
            }

            return ids;
        }));

    public Task<IReadOnlyList<BlacklistRecord>> LoadBlacklistAsync(CancellationToken cancellationToken = default) =>
        Read("SELECT kind, subject, reason, since, until FROM blacklist", r => new BlacklistRecord(
            (BlacklistKind)r.GetInt32(0), r.GetString(1), r.GetString(2), Time(r.GetInt64(3)), r.IsDBNull(4) ? null : Time(r.GetInt64(4))));

    public Task<long> PutBlacklistAsync(BlacklistRecord entry, AuditRecord audit, CancellationToken cancellationToken = default) =>
        Task.FromResult(Write(tx =>
        {
            Execute("INSERT OR REPLACE INTO blacklist (kind, subject, reason, since, until) VALUES ($k, $s, $r, $since, $until)", tx,
                ("$k", (int)entry.Kind), ("$s", entry.Subject), ("$r", entry.Reason), ("$since", Ms(entry.Since)), ("$until", entry.Until is { } u ? Ms(u) : null));
            if (entry.Kind == BlacklistKind.Key)
            {
                Execute("DELETE FROM sessions WHERE key_id = $id", tx, ("$id", entry.Subject));
            }

            return InsertAudit(audit, tx);
        }));

    public Task<long> RemoveBlacklistAsync(BlacklistKind kind, string subject, AuditRecord audit, CancellationToken cancellationToken = default) =>
        Task.FromResult(Write(tx =>
            Execute("DELETE FROM blacklist WHERE kind = $k AND subject = $s", tx, ("$k", (int)kind), ("$s", subject)) == 0
                ? -1
                : InsertAudit(audit, tx)));

    public Task<IReadOnlyList<SessionRecord>> LoadSessionsAsync(CancellationToken cancellationToken = default) =>
        Read("SELECT key_id, session_id, session_secret, login, logged_in_at, latitude, longitude, place FROM sessions", r => new SessionRecord(
            r.GetString(0), r.GetString(1), r.GetString(2), (byte[])r[3], Time(r.GetInt64(4)),
            r.IsDBNull(5) ? null : r.GetDouble(5), r.IsDBNull(6) ? null : r.GetDouble(6), r.GetString(7)));

    public Task SaveSessionAsync(SessionRecord session, CancellationToken cancellationToken = default)
    {
        Write(tx => Execute(
            "INSERT OR REPLACE INTO sessions (key_id, session_id, session_secret, login, logged_in_at, latitude, longitude, place) VALUES ($k, $id, $secret, $login, $at, $lat, $lon, $place)", tx,
            ("$k", session.KeyId), ("$id", session.SessionId), ("$secret", session.SessionSecret), ("$login", session.Login), ("$at", Ms(session.LoggedInAt)),
            ("$lat", session.Latitude), ("$lon", session.Longitude), ("$place", session.Place)));
        return Task.CompletedTask;
    }

    public Task DeleteSessionAsync(string keyId, string? sessionId, CancellationToken cancellationToken = default)
    {
        Write(tx => sessionId is null
            ? Execute("DELETE FROM sessions WHERE key_id = $k", tx, ("$k", keyId))
            : Execute("DELETE FROM sessions WHERE key_id = $k AND session_id = $id", tx, ("$k", keyId), ("$id", sessionId)));
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<QuarantineRecord>> LoadQuarantineAsync(CancellationToken cancellationToken = default) =>
        Read("SELECT key_id, reason, since, reporting_clients FROM quarantine", r => new QuarantineRecord(r.GetString(0), r.GetString(1), Time(r.GetInt64(2)), r.GetInt32(3)));

    public Task<long> PutQuarantineAsync(QuarantineRecord entry, AuditRecord audit, CancellationToken cancellationToken = default) =>
        Task.FromResult(Write(tx =>
        {
            Execute("INSERT OR REPLACE INTO quarantine (key_id, reason, since, reporting_clients) VALUES ($k, $r, $s, $c)", tx,
                ("$k", entry.KeyId), ("$r", entry.Reason), ("$s", Ms(entry.Since)), ("$c", entry.ReportingClients));
            return InsertAudit(audit, tx);
        }));

    public Task<long> RemoveQuarantineAsync(string keyId, AuditRecord audit, CancellationToken cancellationToken = default) =>
        Task.FromResult(Write(tx =>
            Execute("DELETE FROM quarantine WHERE key_id = $k", tx, ("$k", keyId)) == 0 ? -1 : InsertAudit(audit, tx)));

    public Task<long> AppendAuditAsync(AuditRecord audit, CancellationToken cancellationToken = default) =>
        Task.FromResult(Write(tx => InsertAudit(audit, tx)));

    public Task<IReadOnlyList<AuditRecord>> ListAuditAsync(int limit, long beforeId, CancellationToken cancellationToken = default) =>
        Read("SELECT id, at, actor, action, subject, reason FROM audit WHERE $before = 0 OR id < $before ORDER BY id DESC LIMIT $limit",
            r => new AuditRecord(Time(r.GetInt64(1)), r.GetString(2), r.GetString(3), r.GetString(4), r.GetString(5), r.GetInt64(0)),
            ("$before", beforeId), ("$limit", limit));

    public void Dispose()
    {
        lock (_gate)
        {
            _connection.Dispose();
        }
    }

    public Task<byte[]> GetOrAddRevealSecretAsync(long window, byte[] proposed, CancellationToken cancellationToken = default) =>
        Task.FromResult(Write(tx =>
        {
            Execute("DELETE FROM reveal_windows WHERE number < $old", tx, ("$old", window - 1));
            Execute("INSERT OR IGNORE INTO reveal_windows (number, secret) VALUES ($w, $s)", tx, ("$w", window), ("$s", proposed));
            return (byte[])Scalar("SELECT secret FROM reveal_windows WHERE number = $w", tx, ("$w", window))!;
        }));

    private void InsertKey(KeyRecord key, SqliteTransaction tx) =>
        Execute("INSERT INTO keys (key_id, secret_hash, issued_at, expires_at, last_used_at, status, ended_at, reason) VALUES ($id, $h, $i, $x, $u, $s, $e, $r)", tx,
            ("$id", key.KeyId), ("$h", key.SecretHash), ("$i", Ms(key.IssuedAt)), ("$x", Ms(key.ExpiresAt)), ("$u", Ms(key.LastUsedAt)),
            ("$s", (int)key.Status), ("$e", key.EndedAt is { } e ? Ms(e) : null), ("$r", key.Reason));

    private long InsertAudit(AuditRecord audit, SqliteTransaction tx) =>
        (long)Scalar("INSERT INTO audit (at, actor, action, subject, reason) VALUES ($at, $actor, $action, $subject, $reason) RETURNING id", tx,
            ("$at", Ms(audit.At)), ("$actor", audit.Actor), ("$action", audit.Action), ("$subject", audit.Subject), ("$reason", audit.Reason))!;

    private T Write<T>(Func<SqliteTransaction, T> work)
    {
        lock (_gate)
        {
            using var tx = _connection.BeginTransaction();
            var result = work(tx);
            tx.Commit();
            return result;
        }
    }

    private Task<IReadOnlyList<T>> Read<T>(string sql, Func<SqliteDataReader, T> map, params (string Name, object? Value)[] parameters)
    {
        lock (_gate)
        {
            using var command = Command(sql, null, parameters);
            using var reader = command.ExecuteReader();
            var list = new List<T>();
            while (reader.Read())
            {
                list.Add(map(reader));
            }

            return Task.FromResult<IReadOnlyList<T>>(list);
        }
    }

    private SqliteCommand Command(string sql, SqliteTransaction? tx, params (string Name, object? Value)[] parameters)
    {
        var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = tx;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        return command;
    }

    private int Execute(string sql, SqliteTransaction? tx = null, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(sql, tx, parameters);
        return command.ExecuteNonQuery();
    }

    private object? Scalar(string sql, SqliteTransaction? tx = null, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(sql, tx, parameters);
        return command.ExecuteScalar();
    }

    private static long Ms(DateTimeOffset time) => time.ToUnixTimeMilliseconds();

    private static DateTimeOffset Time(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);
}
