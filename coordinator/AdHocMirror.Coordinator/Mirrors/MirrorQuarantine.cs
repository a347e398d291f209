using AdHocMirror.Coordinator.Admin;
using AdHocMirror.Coordinator.Storage;
using Grpc.Core;

namespace AdHocMirror.Coordinator.Mirrors;

/// <summary>
/// Mirrors kept out of matching because clients caught them lying (decided by matching), until staff
/// release them. Durable: a quarantined mirror stays quarantined across restarts and re-logins.
/// </summary>
public sealed class MirrorQuarantine(ICoordinatorStore store, MirrorDirectory directory, AuditTrail audit, TimeProvider clock)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, QuarantineRecord> _entries = new(StringComparer.Ordinal);

    /// <summary>Raised after a release, so liveness can ping the mirror again at once.</summary>
    public event Action<string>? Released;

    public async Task LoadAsync(CancellationToken cancellationToken)
    {
        foreach (var entry in await store.LoadQuarantineAsync(cancellationToken))
        {
            lock (_gate)
            {
                _entries[entry.KeyId] = entry;
            }
        }
    }

    public bool IsQuarantined(string keyId)
    {
        lock (_gate)
        {
            return _entries.ContainsKey(keyId);
        }
    }

    /// <summary>A rotated key stays quarantined under its new id (the store moved the record in the rotation's transaction).</summary>
    public void Rekey(string oldKeyId, string newKeyId)
    {
        lock (_gate)
        {
            if (_entries.Remove(oldKeyId, out var entry))
            {
                _entries[newKeyId] = entry with { KeyId = newKeyId };
            }
        }
    }

    /// <summary>Drops the records of purged keys (the store deleted them with the tombstones).</summary>
    public void Forget(IEnumerable<string> keyIds)
    {
        lock (_gate)
        {
            foreach (var id in keyIds)
            {
                _entries.Remove(id);
            }
        }
    }

    /// <summary>Follows a quarantine or release another coordinator committed (its audit entry is already written).</summary>
    public void ApplyShared(string keyId, QuarantineRecord? entry)
    {
        bool was;
        lock (_gate)
        {
            was = _entries.ContainsKey(keyId);
            if (entry is null)
            {
                _entries.Remove(keyId);
            }
            else
            {
                _entries[keyId] = entry;
            }
        }

        if (was != (entry is not null))
        {
            directory.SetQuarantined(keyId, entry is not null);
            if (entry is null)
            {
                Released?.Invoke(keyId);
            }
        }
    }

    public IReadOnlyList<QuarantineRecord> List()
    {
        lock (_gate)
        {
            return _entries.Values.OrderBy(e => e.Since).ToList();
        }
    }

    /// <summary>Quarantines a mirror (actor "system" when decided by matching); it leaves matching at once.</summary>
    public async Task<long> QuarantineAsync(string keyId, string reason, int reportingClients, string actor, CancellationToken cancellationToken)
    {
        var entry = new QuarantineRecord(keyId, reason, clock.GetUtcNow(), reportingClients);
        var record = new AuditRecord(entry.Since, actor, "quarantine", keyId, reason);
        var id = await store.PutQuarantineAsync(entry, record, cancellationToken);
        lock (_gate)
        {
            _entries[keyId] = entry;
        }

        directory.SetQuarantined(keyId, true);
        audit.Published(record with { Id = id });
        return id;
    }

    public async Task<long> ReleaseAsync(string keyId, string reason, string actor, CancellationToken cancellationToken)
    {
        var record = new AuditRecord(clock.GetUtcNow(), actor, "release-quarantine", keyId, reason);
        var id = await store.RemoveQuarantineAsync(keyId, record, cancellationToken);
        if (id < 0)
        {
            throw new RpcException(new Status(StatusCode.NotFound, $"mirror '{keyId}' is not quarantined"));
        }

        lock (_gate)
        {
            _entries.Remove(keyId);
        }

        directory.SetQuarantined(keyId, false);
        audit.Published(record with { Id = id });
        Released?.Invoke(keyId);
        return id;
    }
}
