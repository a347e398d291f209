using AdHocMirror.Hosting;
using System.Net;
using AdHocMirror.Contracts;
using AdHocMirror.Contracts.V1;
using AdHocMirror.Coordinator.Admin;
using AdHocMirror.Coordinator.Mirrors;
using AdHocMirror.Coordinator.Observability;
using AdHocMirror.Coordinator.Storage;
using Grpc.Core;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Logging;

namespace AdHocMirror.Coordinator.Keys;

/// <summary>A key that passed every check, as seen by the call that presented it.</summary>
public sealed record MirrorKey(string KeyId, DateTimeOffset ExpiresAt);

/// <summary>
/// Issues, checks, rotates and ends mirror keys, and holds the key and network blacklists.
/// Every key (live and tombstoned) and blacklist entry is cached in memory so the check on each call
/// costs a dictionary lookup and one SHA-256; every change is committed to the store before the
/// reply, and only last-use times are written lazily.
/// </summary>
public sealed partial class KeyRegistry(
    ICoordinatorStore store,
    MirrorDirectory directory,
    MirrorQuarantine quarantine,
    AuditTrail audit,
    KeyOptions options,
    RegistrationLimiter limiter,
    Refusals refusals,
    CoordinatorMetrics metrics,
    TimeProvider clock,
    ILogger<KeyRegistry> logger)
{
    private readonly Lock _gate = new();

    // Registration needs no credentials: anyone can make these lines, so they are capped.
    private readonly LogThrottle _registrationLog = new(clock);
    private readonly LogThrottle _refusalLog = new(clock);
    private readonly SemaphoreSlim _writes = new(1, 1);
    private readonly Dictionary<string, KeyEntry> _keys = new(StringComparer.Ordinal);
    private readonly Dictionary<string, BlacklistRecord> _keyBlacklist = new(StringComparer.Ordinal);
    private readonly Dictionary<IPNetwork, BlacklistRecord> _networkBlacklist = [];

    public async Task LoadAsync(CancellationToken cancellationToken)
    {
        var keys = await store.LoadKeysAsync(cancellationToken);
        var blacklist = await store.LoadBlacklistAsync(cancellationToken);
        lock (_gate)
        {
            foreach (var key in keys)
            {
                _keys[key.KeyId] = new KeyEntry(key);
            }

            foreach (var entry in blacklist)
            {
                if (entry.Kind == BlacklistKind.Key)
                {
                    _keyBlacklist[entry.Subject] = entry;
                }
                else if (IPNetwork.TryParse(entry.Subject, out var network))
                {
                    _networkBlacklist[network] = entry;
                }
            }
        }
    }

    /// <summary>Follows a key change another coordinator committed (null: the key was purged).</summary>
    public void ApplyShared(string keyId, KeyRecord? record)
    {
        lock (_gate)
        {
            if (record is null)
            {
                _keys.Remove(keyId);
            }
            else if (_keys.TryGetValue(keyId, out var entry))
            {
                entry.Record = record;
                entry.Saw(record.LastUsedAt);
            }
            else
            {
                _keys[keyId] = new KeyEntry(record);
            }
        }

        if (record is null || record.Status != KeyStatus.Live)
        {
            directory.Remove(keyId);
        }
    }

    /// <summary>Follows a blacklist entry another coordinator put or lifted (null: lifted).</summary>
    public void ApplySharedBlacklist(BlacklistKind kind, string subject, BlacklistRecord? entry)
    {
        if (kind == BlacklistKind.Key)
        {
            lock (_gate)
            {
                if (entry is null)
                {
                    _keyBlacklist.Remove(subject);
                }
                else
                {
                    _keyBlacklist[subject] = entry;
                }
            }

            if (entry is not null)
            {
                directory.Remove(subject);
            }
        }
        else if (IPNetwork.TryParse(subject, out var network))
        {
            lock (_gate)
            {
                if (entry is null)
                {
                    _networkBlacklist.Remove(network);
                }
                else
                {
                    _networkBlacklist[network] = entry;
                }
            }

            if (entry is not null)
            {
                directory.RemoveIn(network);
            }
        }
    }

    public int LiveCount
    {
        get
        {
            lock (_gate)
            {
                return _keys.Values.Count(k => k.Record.Status == KeyStatus.Live);
            }
        }
    }

    /// <summary>Checks the key presented on a call; throws the refusal naming the cause.</summary>
    public MirrorKey Authenticate(string? bearer, IPAddress? peer)
    {
        if (bearer is null)
        {
            throw refusals.UnknownKey("no key presented: send 'authorization: Bearer <key_id>.<secret>'");
        }

        if (!Credentials.TryParseKey(bearer, out var keyId, out var secret)
            || !KeyMaterial.IsWellFormed(keyId, KeyMaterial.IdLength) || !KeyMaterial.IsWellFormed(secret, KeyMaterial.SecretLength))
        {
            throw refusals.UnknownKey("malformed key: expected 'Bearer <32 hex key id>.<64 hex secret>'");
        }

        CheckNetwork(peer);
        var now = clock.GetUtcNow();
        lock (_gate)
        {
            if (!_keys.TryGetValue(keyId, out var entry) || !KeyMaterial.Matches(secret, entry.Record.SecretHash))
            {
                throw refusals.UnknownKey("unknown key or wrong secret; register a new key");
            }

            if (_keyBlacklist.TryGetValue(keyId, out var blacklisted) && blacklisted.IsActive(now))
            {
                throw refusals.Blacklisted(blacklisted.Reason, blacklisted.Until);
            }

            var record = entry.Record;
            switch (record.Status)
            {
                case KeyStatus.Revoked:
                    throw refusals.Revoked(record.Reason);
                case KeyStatus.Expired:
                    throw refusals.Expired(record.ExpiresAt);
                case KeyStatus.Retired:
                    throw refusals.UnknownKey($"key was retired ({record.Reason}); register a new one");
            }

            if (record.ExpiresAt <= now)
            {
                throw refusals.Expired(record.ExpiresAt);
            }

            entry.Touch(now);
            return new MirrorKey(keyId, record.ExpiresAt);
        }
    }

    /// <summary>Refuses calls from a blacklisted network.</summary>
    public void CheckNetwork(IPAddress? peer)
    {
        if (peer is null)
        {
            return;
        }

        var now = clock.GetUtcNow();
        lock (_gate)
        {
            foreach (var (network, entry) in _networkBlacklist)
            {
                if (entry.IsActive(now) && network.Contains(peer))
                {
                    throw refusals.NetworkBlacklisted(entry.Subject, entry.Reason, entry.Until);
                }
            }
        }
    }

    /// <summary>A good ping counts as use: an online mirror's key is not dormant.</summary>
    public void MarkUsed(string keyId)
    {
        var now = clock.GetUtcNow();
        lock (_gate)
        {
            if (_keys.TryGetValue(keyId, out var entry))
            {
                entry.Touch(now);
            }
        }
    }

    public async Task<RegisterReply> RegisterAsync(IPAddress? peer, CancellationToken cancellationToken)
    {
        CheckNetwork(peer);
        if (peer is not null)
        {
            if (directory.CountFrom(peer) >= options.MaxMirrorsPerAddress)
            {
                throw refusals.RateLimited($"too many live mirrors from one address (limit {options.MaxMirrorsPerAddress})");
            }

            if (!limiter.TryTake(peer))
            {
                if (_refusalLog.TryLog(out var dropped))
                {
                    LogRateLimited(logger, SourceNetwork.Describe(peer), dropped);
                }

                throw refusals.RateLimited($"too many registrations from network {SourceNetwork.Describe(peer)} (limit {options.RegistrationsPerNetworkPerHour} per hour); try again later");
            }
        }

        var (record, secret) = await IssueAsync(async key => await store.InsertKeyAsync(key, null, cancellationToken), cancellationToken);
        metrics.Registrations.Inc();
        if (_registrationLog.TryLog(out var unlogged))
        {
            LogIssued(logger, record.KeyId, SourceNetwork.Describe(peer), unlogged);
        }

        return Reply(record, secret);
    }

    public async Task<RegisterReply> RotateAsync(MirrorKey key, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var (record, secret) = await IssueAsync(async fresh =>
        {
            if (!await store.RotateKeyAsync(key.KeyId, fresh, now, null, cancellationToken))
            {
                return false;
            }

            lock (_gate)
            {
                if (_keys.TryGetValue(key.KeyId, out var old))
                {
                    old.Record = old.Record with { Status = KeyStatus.Retired, EndedAt = now, Reason = "rotated" };
                }
            }

            quarantine.Rekey(key.KeyId, fresh.KeyId);
            directory.Rekey(key.KeyId, fresh.KeyId);
            return true;
        }, cancellationToken);
        metrics.Rotations.Inc();
        LogRotated(logger, key.KeyId, record.KeyId);
        return Reply(record, secret);
    }

    public async Task RetireAsync(MirrorKey key, CancellationToken cancellationToken) =>
        await EndAsync(key.KeyId, KeyStatus.Retired, "retired by its holder", null, cancellationToken);

    public async Task<long> RevokeAsync(string keyId, string reason, CancellationToken cancellationToken)
    {
        var entry = Find(keyId) ?? throw new RpcException(new Status(StatusCode.NotFound, $"unknown key '{keyId}'"));
        if (entry.Status != KeyStatus.Live)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, $"key '{keyId}' is already {entry.Status.ToString().ToLowerInvariant()}"));
        }

        return await EndAsync(keyId, KeyStatus.Revoked, reason, Audit(AuditRecord.Admin, "revoke", keyId, reason), cancellationToken);
    }

    public async Task<long> BlacklistKeyAsync(string keyId, string reason, TimeSpan? duration, CancellationToken cancellationToken)
    {
        _ = Find(keyId) ?? throw new RpcException(new Status(StatusCode.NotFound, $"unknown key '{keyId}'"));
        var now = clock.GetUtcNow();
        var entry = new BlacklistRecord(BlacklistKind.Key, keyId, reason, now, duration is { } d ? now + d : null);
        var id = await WriteAsync(async () =>
        {
            var auditId = await store.PutBlacklistAsync(entry, Audit(AuditRecord.Admin, "blacklist-key", keyId, Describe(entry)), cancellationToken);
            lock (_gate)
            {
                _keyBlacklist[keyId] = entry;
            }

            directory.Remove(keyId);
            return auditId;
        }, cancellationToken);
        Published(id, AuditRecord.Admin, "blacklist-key", keyId, Describe(entry));
        return id;
    }

    public Task<long> UnblacklistKeyAsync(string keyId, string reason, CancellationToken cancellationToken) =>
        LiftAsync(BlacklistKind.Key, keyId, AuditRecord.Admin, "unblacklist-key", reason, cancellationToken);

    public async Task<long> BlacklistNetworkAsync(IPNetwork network, string reason, TimeSpan? duration, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var prefix = network.ToString();
        var entry = new BlacklistRecord(BlacklistKind.Network, prefix, reason, now, duration is { } d ? now + d : null);
        var id = await WriteAsync(async () =>
        {
            var auditId = await store.PutBlacklistAsync(entry, Audit(AuditRecord.Admin, "blacklist-network", prefix, Describe(entry)), cancellationToken);
            lock (_gate)
            {
                _networkBlacklist[network] = entry;
            }

            foreach (var keyId in directory.RemoveIn(network))
            {
                await store.DeleteSessionAsync(keyId, null, cancellationToken);
            }

            return auditId;
        }, cancellationToken);
        Published(id, AuditRecord.Admin, "blacklist-network", prefix, Describe(entry));
        return id;
    }

    public Task<long> UnblacklistNetworkAsync(IPNetwork network, string reason, CancellationToken cancellationToken) =>
        LiftAsync(BlacklistKind.Network, network.ToString(), AuditRecord.Admin, "unblacklist-network", reason, cancellationToken);

    public KeyRecord? Find(string keyId)
    {
        lock (_gate)
        {
            return _keys.TryGetValue(keyId, out var entry) ? entry.Record with { LastUsedAt = entry.LastUsed } : null;
        }
    }

    public IReadOnlyList<KeyInfo> ListKeys(bool includeTombstones)
    {
        var now = clock.GetUtcNow();
        lock (_gate)
        {
            return _keys.Values
                .Where(e => includeTombstones || e.Record.Status == KeyStatus.Live)
                .OrderBy(e => e.Record.IssuedAt)
                .Select(e =>
                {
                    var r = e.Record;
                    var info = new KeyInfo
                    {
                        KeyId = r.KeyId,
                        State = r.Status switch
                        {
                            KeyStatus.Live when r.ExpiresAt <= now => KeyState.Expired,
                            KeyStatus.Live => KeyState.Live,
                            KeyStatus.Expired => KeyState.Expired,
                            KeyStatus.Revoked => KeyState.Revoked,
                            _ => KeyState.Retired,
                        },
                        IssuedAt = Timestamp.FromDateTimeOffset(r.IssuedAt),
                        ExpiresAt = Timestamp.FromDateTimeOffset(r.ExpiresAt),
                        LastUsedAt = Timestamp.FromDateTimeOffset(e.LastUsed),
                        Reason = r.Reason,
                    };
                    if (r.EndedAt is { } ended)
                    {
                        info.Until = Timestamp.FromDateTimeOffset(ended + options.CoolOff);
                    }

                    if (_keyBlacklist.TryGetValue(r.KeyId, out var b) && b.IsActive(now))
                    {
                        info.State = KeyState.Blacklisted;
                        info.Reason = b.Reason;
                        info.Until = b.Until is { } u ? Timestamp.FromDateTimeOffset(u) : null;
                    }

                    return info;
                })
                .ToList();
        }
    }

    public IReadOnlyList<BlacklistRecord> ListBlacklist()
    {
        lock (_gate)
        {
            return _keyBlacklist.Values.Concat(_networkBlacklist.Values).OrderBy(b => b.Since).ToList();
        }
    }

    /// <summary>One housekeeping pass; every action audited as "system".</summary>
    /// <param name="decide">False on a coordinator that shares the database with one that keeps house: it only flushes what it saw.</param>
    public async Task HousekeepAsync(CancellationToken cancellationToken, bool decide = true)
    {
        await FlushLastUsedAsync(cancellationToken);
        if (!decide)
        {
            limiter.Trim();
            return;
        }

        var now = clock.GetUtcNow();
        List<string> expired, dormant;
        List<BlacklistRecord> ended;
        lock (_gate)
        {
            expired = _keys.Values.Where(e => e.Record.Status == KeyStatus.Live && e.Record.ExpiresAt <= now).Select(e => e.Record.KeyId).ToList();
            dormant = _keys.Values
                .Where(e => e.Record.Status == KeyStatus.Live && e.Record.ExpiresAt > now && e.LastUsed <= now - options.IdleLimit)
                .OrderBy(e => e.LastUsed)
                .Take(options.DormantBatch)
                .Select(e => e.Record.KeyId)
                .ToList();
            ended = _keyBlacklist.Values.Concat(_networkBlacklist.Values).Where(b => !b.IsActive(now)).ToList();
        }

        foreach (var keyId in expired)
        {
            await EndAsync(keyId, KeyStatus.Expired, "expired", Audit(AuditRecord.System, "expire", keyId, "expired"), cancellationToken);
            metrics.Housekeeping.Inc("expire");
        }

        foreach (var keyId in dormant)
        {
            // Other coordinators (sharing the database) may have seen it used: their flushes are in the store.
            if (await store.LoadKeyAsync(keyId, cancellationToken) is { } stored && stored.LastUsedAt > now - options.IdleLimit)
            {
                lock (_gate)
                {
                    if (_keys.TryGetValue(keyId, out var entry))
                    {
                        entry.Saw(stored.LastUsedAt);
                    }
                }

                continue;
            }

            var reason = $"dormant: unused for more than {options.IdleLimit.TotalDays:0.#} days";
            await EndAsync(keyId, KeyStatus.Revoked, reason, Audit(AuditRecord.System, "revoke-dormant", keyId, reason), cancellationToken);
            metrics.Housekeeping.Inc("revoke-dormant");
        }

        foreach (var entry in ended)
        {
            var action = entry.Kind == BlacklistKind.Key ? "unblacklist-key" : "unblacklist-network";
            await LiftAsync(entry.Kind, entry.Subject, AuditRecord.System, action, "blacklist ended", cancellationToken);
            metrics.Housekeeping.Inc(action);
        }

        bool anyPurgeable;
        lock (_gate)
        {
            anyPurgeable = _keys.Values.Any(e => e.Record.Status != KeyStatus.Live && e.Record.EndedAt < now - options.CoolOff);
        }

        IReadOnlyList<string> purged = !anyPurgeable ? [] : await WriteAsync(
            () => store.PurgeTombstonesAsync(now - options.CoolOff, id => Audit(AuditRecord.System, "purge-tombstone", id, "cool-off ended"), cancellationToken),
            cancellationToken);
        lock (_gate)
        {
            foreach (var id in purged)
            {
                _keys.Remove(id);
            }
        }

        quarantine.Forget(purged);
        foreach (var id in purged)
        {
            audit.Published(Audit(AuditRecord.System, "purge-tombstone", id, "cool-off ended"));
            metrics.Housekeeping.Inc("purge-tombstone");
        }

        limiter.Trim();
    }

    /// <summary>Writes last-use times gathered since the last flush in one transaction.</summary>
    public async Task FlushLastUsedAsync(CancellationToken cancellationToken)
    {
        List<KeyValuePair<string, DateTimeOffset>> dirty;
        lock (_gate)
        {
            dirty = _keys.Values.Where(e => e.Dirty).Select(e => new KeyValuePair<string, DateTimeOffset>(e.Record.KeyId, e.LastUsed)).ToList();
            foreach (var entry in _keys.Values)
            {
                entry.Dirty = false;
            }
        }

        await store.TouchKeysAsync(dirty, cancellationToken);
    }

    private async Task<(KeyRecord Record, string Secret)> IssueAsync(Func<KeyRecord, Task<bool>> commit, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        for (var attempt = 0; ; attempt++)
        {
            var secret = KeyMaterial.NewSecret();
            var record = new KeyRecord(KeyMaterial.NewId(), KeyMaterial.Hash(secret), now, now + options.Lifetime, now, KeyStatus.Live);
            lock (_gate)
            {
                // A tombstoned id is never issued again (128 random bits make this a formality).
                if (_keys.ContainsKey(record.KeyId))
                {
                    continue;
                }
            }

            var committed = await WriteAsync(async () =>
            {
                if (!await commit(record))
                {
                    return false;
                }

                lock (_gate)
                {
                    _keys[record.KeyId] = new KeyEntry(record);
                }

                return true;
            }, cancellationToken);
            if (committed)
            {
                return (record, secret);
            }

            if (attempt > 8)
            {
                throw new RpcException(new Status(StatusCode.Internal, "could not draw an unused key id"));
            }
        }
    }

    private async Task<long> EndAsync(string keyId, KeyStatus status, string reason, AuditRecord? auditRecord, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var id = await WriteAsync(async () =>
        {
            var auditId = await store.UpdateKeyStateAsync(keyId, status, now, reason, auditRecord, cancellationToken);
            lock (_gate)
            {
                if (_keys.TryGetValue(keyId, out var entry))
                {
                    entry.Record = entry.Record with { Status = status, EndedAt = now, Reason = reason };
                }
            }

            directory.Remove(keyId);
            return auditId;
        }, cancellationToken);
        if (auditRecord is not null)
        {
            audit.Published(auditRecord with { Id = id });
        }

        LogEnded(logger, keyId, status, reason);
        return id;
    }

    private async Task<long> LiftAsync(BlacklistKind kind, string subject, string actor, string action, string reason, CancellationToken cancellationToken)
    {
        var id = await WriteAsync(async () =>
        {
            var auditId = await store.RemoveBlacklistAsync(kind, subject, Audit(actor, action, subject, reason), cancellationToken);
            lock (_gate)
            {
                if (kind == BlacklistKind.Key)
                {
                    _keyBlacklist.Remove(subject);
                }
                else if (IPNetwork.TryParse(subject, out var network))
                {
                    _networkBlacklist.Remove(network);
                }
            }

            return auditId;
        }, cancellationToken);
        if (id < 0)
        {
            throw new RpcException(new Status(StatusCode.NotFound, $"{(kind == BlacklistKind.Key ? "key" : "network")} '{subject}' is not blacklisted"));
        }

        Published(id, actor, action, subject, reason);
        return id;
    }

    private async Task<T> WriteAsync<T>(Func<Task<T>> write, CancellationToken cancellationToken)
    {
        // Changes are serialised so memory follows the store in commit order.
        await _writes.WaitAsync(cancellationToken);
        try
        {
            return await write();
        }
        finally
        {
            _writes.Release();
        }
    }

    private void Published(long id, string actor, string action, string subject, string reason) =>
        audit.Published(Audit(actor, action, subject, reason) with { Id = id });

    private AuditRecord Audit(string actor, string action, string subject, string reason) => new(clock.GetUtcNow(), actor, action, subject, reason);

    private static string Describe(BlacklistRecord entry) =>
        entry.Until is { } until ? $"{entry.Reason} (until {until.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ})" : $"{entry.Reason} (indefinite)";

    private static RegisterReply Reply(KeyRecord record, string secret) => new()
    {
        KeyId = record.KeyId,
        Secret = secret,
        IssuedAt = Timestamp.FromDateTimeOffset(record.IssuedAt),
        ExpiresAt = Timestamp.FromDateTimeOffset(record.ExpiresAt),
    };

    [LoggerMessage(Level = LogLevel.Information, Message = "Key {KeyId} issued to a mirror in {Network} ({Unlogged} more issued without a log line)")]
    private static partial void LogIssued(ILogger logger, string keyId, string network, long unlogged);

    [LoggerMessage(Level = LogLevel.Information, Message = "Key {OldKeyId} rotated to {NewKeyId}")]
    private static partial void LogRotated(ILogger logger, string oldKeyId, string newKeyId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Key {KeyId} ended ({Status}): {Reason}")]
    private static partial void LogEnded(ILogger logger, string keyId, KeyStatus status, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Registration refused: rate limit reached for {Network} ({Dropped} more refusals not logged)")]
    private static partial void LogRateLimited(ILogger logger, string network, long dropped);

    private sealed class KeyEntry(KeyRecord record)
    {
        public KeyRecord Record { get; set; } = record;

        public DateTimeOffset LastUsed { get; private set; } = record.LastUsedAt;

        public bool Dirty { get; set; }

        /// <summary>A use another coordinator saw (and stored): not dirty here.</summary>
        public void Saw(DateTimeOffset at)
        {
            if (at > LastUsed)
            {
                LastUsed = at;
            }
        }

        public void Touch(DateTimeOffset now)
        {
            if (now > LastUsed)
            {
                LastUsed = now;
                Dirty = true;
            }
        }
    }
}
