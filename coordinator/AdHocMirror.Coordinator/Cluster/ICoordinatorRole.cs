using AdHocMirror.Coordinator.Storage;

namespace AdHocMirror.Coordinator.Cluster;

/// <summary>
/// This coordinator's part of the work when several share one database: which sessions it pings and
/// whether it runs the swarm-wide housekeeping. A coordinator alone (SQLite) does everything.
/// </summary>
public interface ICoordinatorRole
{
    /// <summary>Raised when the coordinators changed, with a test for the sessions this one has just taken over.</summary>
    event Action<Func<string, bool>>? Gained;

    /// <summary>This coordinator's id in the heartbeat rows ("" when alone).</summary>
    string Id { get; }

    /// <summary>Whether this coordinator pings the session of <paramref name="keyId"/>.</summary>
    bool Pings(string keyId);

    /// <summary>Whether this coordinator expires, revokes and purges keys for everyone (one does, so nothing is done twice).</summary>
    bool Housekeeps { get; }

    /// <summary>The coordinators with their heartbeat age (empty when alone).</summary>
    Task<IReadOnlyList<CoordinatorRecord>> ListAsync(CancellationToken cancellationToken);
}

/// <summary>The role of a coordinator that is alone: it pings every session and keeps house.</summary>
public sealed class SoleCoordinator : ICoordinatorRole
{
    event Action<Func<string, bool>>? ICoordinatorRole.Gained
    {
        add { }
        remove { }
    }

    public string Id => string.Empty;

    public bool Housekeeps => true;

    public bool Pings(string keyId) => true;

    public Task<IReadOnlyList<CoordinatorRecord>> ListAsync(CancellationToken cancellationToken) => Task.FromResult<IReadOnlyList<CoordinatorRecord>>([]);
}
