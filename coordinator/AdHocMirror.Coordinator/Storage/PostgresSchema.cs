using Npgsql;

namespace AdHocMirror.Coordinator.Storage;

/// <summary>
/// The PostgreSQL schema and its ordered migrations; <c>ahm_schema.version</c> is the number applied.
/// Never edit a migration that shipped: append. Several coordinators may start at once, so the whole
/// check-and-migrate runs in one transaction under a transaction-scoped advisory lock: the first
/// migrates, the others wait for it and then find nothing to do.
/// </summary>
internal static class PostgresSchema
{
    /// <summary>Our advisory lock id ("AHM schema"); transaction-scoped, so a crashed migrator frees it.</summary>
    private const long MigrationLock = 0x41484D_5343484D;

    private static readonly string[] Migrations =
    [
        """
        CREATE TABLE keys (
            key_id text PRIMARY KEY,
            secret_hash bytea NOT NULL,
            issued_at bigint NOT NULL,
            expires_at bigint NOT NULL,
            last_used_at bigint NOT NULL,
            status integer NOT NULL,
            ended_at bigint,
            reason text NOT NULL DEFAULT ''
        );
        CREATE INDEX keys_status ON keys (status, ended_at);
        CREATE TABLE blacklist (
            kind integer NOT NULL,
            subject text NOT NULL,
            reason text NOT NULL,
            since bigint NOT NULL,
            until bigint,
            PRIMARY KEY (kind, subject)
        );
        CREATE TABLE sessions (
            key_id text PRIMARY KEY,
            session_id text NOT NULL,
            session_secret text NOT NULL,
            login bytea NOT NULL,
            logged_in_at bigint NOT NULL,
            latitude double precision,
            longitude double precision,
            place text NOT NULL DEFAULT '',
            -- Live state written by the coordinator that pings the session, read by the others.
            state integer NOT NULL DEFAULT 0,
            versions bytea,
            active_connections bigint NOT NULL DEFAULT 0,
            last_ping_at bigint,
            last_ping_ms double precision NOT NULL DEFAULT 0,
            pinged_by text
        );
        CREATE TABLE quarantine (
            key_id text PRIMARY KEY,
            reason text NOT NULL,
            since bigint NOT NULL,
            reporting_clients integer NOT NULL
        );
        CREATE TABLE audit (
            id bigserial PRIMARY KEY,
            at bigint NOT NULL,
            actor text NOT NULL,
            action text NOT NULL,
            subject text NOT NULL,
            reason text NOT NULL
        );
        -- One row per committed change of shared state, written in the change's own transaction, so
        -- every coordinator can follow the others by reading the rows after the last one it applied.
        CREATE TABLE changes (
            id bigserial PRIMARY KEY,
            at timestamptz NOT NULL DEFAULT now(),
            kind smallint NOT NULL,
            subject text NOT NULL
        );
        CREATE INDEX changes_at ON changes (at);
        -- Heartbeat rows: the coordinators know each other from here, never from configuration.
        CREATE TABLE coordinators (
            id text PRIMARY KEY,
            public_address text NOT NULL,
            admin_address text NOT NULL,
            started_at timestamptz NOT NULL DEFAULT now(),
            heartbeat_at timestamptz NOT NULL DEFAULT now(),
            sessions_pinged integer NOT NULL DEFAULT 0
        );
        """,
        """
        -- The reveal windows' secrets (IRevealSecrets), shared so that a client network sees the same volunteers
        -- from every coordinator: at most the current and the previous window.
        CREATE TABLE reveal_windows (
            number bigint PRIMARY KEY,
            secret bytea NOT NULL
        );
        """,
    ];

    public static int Version => Migrations.Length;

    public static async Task MigrateAsync(NpgsqlDataSource source, CancellationToken cancellationToken)
    {
        await using var connection = await source.OpenConnectionAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        await ExecuteAsync(connection, tx, $"SELECT pg_advisory_xact_lock({MigrationLock})", cancellationToken);
        await ExecuteAsync(connection, tx, "CREATE TABLE IF NOT EXISTS ahm_schema (version integer NOT NULL)", cancellationToken);
        await using (var read = new NpgsqlCommand("SELECT max(version) FROM ahm_schema", connection, tx))
        {
            var version = await read.ExecuteScalarAsync(cancellationToken) is int v ? v : 0;
            if (version > Migrations.Length)
            {
                throw new InvalidOperationException($"the database has schema version {version}, newer than this coordinator knows ({Migrations.Length}).");
            }

            for (var i = version; i < Migrations.Length; i++)
            {
                await ExecuteAsync(connection, tx, Migrations[i], cancellationToken);
            }

            if (version < Migrations.Length)
            {
                await ExecuteAsync(connection, tx, "DELETE FROM ahm_schema", cancellationToken);
                await ExecuteAsync(connection, tx, $"INSERT INTO ahm_schema (version) VALUES ({Migrations.Length})", cancellationToken);
            }
        }

        await tx.CommitAsync(cancellationToken);
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction tx, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, tx);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
