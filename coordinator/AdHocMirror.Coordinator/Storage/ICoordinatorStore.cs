namespace AdHocMirror.Coordinator.Storage;

/// <summary>
/// The coordinator's durable state: keys and their tombstones, blacklists, open sessions, quarantine
/// records and the audit log. Every mutating call is committed (durably) before it returns, together
/// with the audit entry it carries, so an acknowledged reply survives a crash at any instant.
/// Narrow on purpose: services keep their hot state in memory and use this for durability only,
/// so another database (PostgreSQL) can implement it without touching them.
/// </summary>
public interface ICoordinatorStore : IDisposable
{
    /// <summary>Creates or migrates the schema.</summary>
    Task OpenAsync(CancellationToken cancellationToken = default);

    Task<IReadOnlyList<KeyRecord>> LoadKeysAsync(CancellationToken cancellationToken = default);

    /// <summary>One key as stored now, or null (housekeeping reads the last use every coordinator has flushed).</summary>
    Task<KeyRecord?> LoadKeyAsync(string keyId, CancellationToken cancellationToken = default);

    /// <summary>Inserts a new key; false when the id is already known (live or tombstoned), nothing written.</summary>
    Task<bool> InsertKeyAsync(KeyRecord key, AuditRecord? audit, CancellationToken cancellationToken = default);

    /// <summary>Sets a key's state (and ends its session); returns the audit id, or 0 without audit.</summary>
    Task<long> UpdateKeyStateAsync(string keyId, KeyStatus status, DateTimeOffset endedAt, string reason, AuditRecord? audit, CancellationToken cancellationToken = default);

    /// <summary>Retires <paramref name="oldKeyId"/> and inserts <paramref name="newKey"/> atomically; the open session and any quarantine follow the new key.</summary>
    Task<bool> RotateKeyAsync(string oldKeyId, KeyRecord newKey, DateTimeOffset at, AuditRecord? audit, CancellationToken cancellationToken = default);

    /// <summary>Records last-use times lazily (batched); losing the last batch in a crash only makes keys look older.</summary>
    Task TouchKeysAsync(IReadOnlyCollection<KeyValuePair<string, DateTimeOffset>> lastUsed, CancellationToken cancellationToken = default);

    /// <summary>Forgets tombstones whose cool-off ended (and their quarantine records); returns the ids purged.</summary>
    Task<IReadOnlyList<string>> PurgeTombstonesAsync(DateTimeOffset endedBefore, Func<string, AuditRecord> audit, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<BlacklistRecord>> LoadBlacklistAsync(CancellationToken cancellationToken = default);

    /// <summary>Adds or replaces a blacklist entry (a key blacklist also ends the key's session).</summary>
    Task<long> PutBlacklistAsync(BlacklistRecord entry, AuditRecord audit, CancellationToken cancellationToken = default);

    /// <summary>Removes an entry; returns the audit id, or -1 when there was none.</summary>
    Task<long> RemoveBlacklistAsync(BlacklistKind kind, string subject, AuditRecord audit, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<SessionRecord>> LoadSessionsAsync(CancellationToken cancellationToken = default);

    /// <summary>Stores the one session of a key, replacing the one before.</summary>
    Task SaveSessionAsync(SessionRecord session, CancellationToken cancellationToken = default);

    Task DeleteSessionAsync(string keyId, string? sessionId, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<QuarantineRecord>> LoadQuarantineAsync(CancellationToken cancellationToken = default);

    Task<long> PutQuarantineAsync(QuarantineRecord entry, AuditRecord audit, CancellationToken cancellationToken = default);

    Task<long> RemoveQuarantineAsync(string keyId, AuditRecord audit, CancellationToken cancellationToken = default);

    Task<long> AppendAuditAsync(AuditRecord audit, CancellationToken cancellationToken = default);

    /// <summary>Newest first, ids below <paramref name="beforeId"/> (0 = from the newest).</summary>
    Task<IReadOnlyList<AuditRecord>> ListAuditAsync(int limit, long beforeId, CancellationToken cancellationToken = default);
}

public enum KeyStatus
{
    Live = 1,
    Expired = 2,
    Revoked = 3,
    Retired = 5,
}

/// <summary>A mirror key as stored: only the SHA-256 of its secret.</summary>
public sealed record KeyRecord(
    string KeyId,
    byte[] SecretHash,
    DateTimeOffset IssuedAt,
    DateTimeOffset ExpiresAt,
    DateTimeOffset LastUsedAt,
    KeyStatus Status,
    DateTimeOffset? EndedAt = null,
    string Reason = "")
{
    public bool IsTombstone => Status != KeyStatus.Live;
}

public enum BlacklistKind
{
    Key = 1,
    Network = 2,
}

/// <summary>A key id or a CIDR prefix refused until <see cref="Until"/> (null = until lifted by hand).</summary>
public sealed record BlacklistRecord(BlacklistKind Kind, string Subject, string Reason, DateTimeOffset Since, DateTimeOffset? Until)
{
    public bool IsActive(DateTimeOffset now) => Until is null || Until > now;
}

/// <summary>The open session of a key, kept so a restarted coordinator resumes pinging its mirrors.</summary>
public sealed record SessionRecord(
    string KeyId,
    string SessionId,
    string SessionSecret,
    byte[] Login,
    DateTimeOffset LoggedInAt,
    double? Latitude,
    double? Longitude,
    string Place);

public sealed record QuarantineRecord(string KeyId, string Reason, DateTimeOffset Since, int ReportingClients);

public sealed record AuditRecord(DateTimeOffset At, string Actor, string Action, string Subject, string Reason, long Id = 0)
{
    public const string Admin = "admin";
    public const string System = "system";
}
