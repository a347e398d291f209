namespace AdHocMirror.Coordinator.Matching;

/// <summary>
/// The part of a mirror's limit this coordinator may lease when several coordinators share the swarm.
/// The parts all coordinators use at any moment sum to at most the limit.
/// </summary>
public interface ICapacityShare
{
    /// <summary>Raised when shares change (a coordinator came or went, or a share may now grow).</summary>
    event Action? Changed;

    int ShareOf(string keyId, int limit);
}
