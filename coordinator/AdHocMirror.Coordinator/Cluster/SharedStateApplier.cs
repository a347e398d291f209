using AdHocMirror.Coordinator.Keys;
using AdHocMirror.Coordinator.Mirrors;
using AdHocMirror.Coordinator.Sessions;
using AdHocMirror.Coordinator.Storage;

namespace AdHocMirror.Coordinator.Cluster;

/// <summary>
/// Brings this coordinator's memory in line with one change another coordinator committed: the change
/// row only names the thing, and its current row is read back, so applying a change twice, or out of
/// order, or a change this coordinator made itself, ends in the same state.
/// </summary>
public sealed class SharedStateApplier(IClusterStore store, KeyRegistry keys, MirrorQuarantine quarantine, SessionBook sessions, ClusterIdentity identity)
{
    public async Task ApplyAsync(ChangeRecord change, CancellationToken cancellationToken)
    {
        switch (change.Kind)
        {
            case ChangeKind.Key:
                keys.ApplyShared(change.Subject, await store.LoadKeyAsync(change.Subject, cancellationToken));
                break;
            case ChangeKind.Blacklist when ParseBlacklist(change.Subject) is { } subject:
                keys.ApplySharedBlacklist(subject.Kind, subject.Subject, await store.LoadBlacklistEntryAsync(subject.Kind, subject.Subject, cancellationToken));
                break;
            case ChangeKind.Quarantine:
                quarantine.ApplyShared(change.Subject, await store.LoadQuarantineEntryAsync(change.Subject, cancellationToken));
                break;
            case ChangeKind.Session:
                sessions.ApplyShared(change.Subject, await store.LoadSharedSessionAsync(change.Subject, cancellationToken), identity.Id);
                break;
        }
    }

    /// <summary>Reloads everything shared: on start, and after the database was away longer than change rows are kept.</summary>
    public async Task ResyncAsync(CancellationToken cancellationToken)
    {
        await keys.LoadAsync(cancellationToken);
        await quarantine.LoadAsync(cancellationToken);
        var shared = await store.LoadSharedSessionsAsync(cancellationToken);
        var present = shared.Select(s => s.Session.KeyId).ToHashSet(StringComparer.Ordinal);
        foreach (var session in shared)
        {
            sessions.ApplyShared(session.Session.KeyId, session, identity.Id);
        }

        foreach (var gone in sessions.KeysNotIn(present))
        {
            sessions.ApplyShared(gone, null, identity.Id);
        }
    }

    private static (BlacklistKind Kind, string Subject)? ParseBlacklist(string subject)
    {
        var colon = subject.IndexOf(':', StringComparison.Ordinal);
        return colon > 0 && int.TryParse(subject.AsSpan(0, colon), out var kind) && Enum.IsDefined((BlacklistKind)kind)
            ? ((BlacklistKind)kind, subject[(colon + 1)..])
            : null;
    }
}
