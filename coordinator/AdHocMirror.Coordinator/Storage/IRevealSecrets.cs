using System.Collections.Concurrent;

namespace AdHocMirror.Coordinator.Storage;

/// <summary>
/// The secret of each reveal window (see Matching/Privacy/RevealBudget): the key of every client
/// network's stable choice of volunteers. Every coordinator on one store gets the same secret for a
/// window, so a network sees the same volunteers from any of them, and from a restarted one.
/// </summary>
public interface IRevealSecrets
{
    /// <summary>
    /// The secret of <paramref name="window"/>: the stored one, or <paramref name="proposed"/> stored now
    /// when there is none (the first coordinator to ask wins a race). Forgets windows before the previous one.
    /// </summary>
    Task<byte[]> GetOrAddRevealSecretAsync(long window, byte[] proposed, CancellationToken cancellationToken = default);
}

/// <summary>One process's secrets, for a store that cannot share them: the budget still holds, per coordinator.</summary>
public sealed class MemoryRevealSecrets : IRevealSecrets
{
    private readonly ConcurrentDictionary<long, byte[]> _windows = new();

    public Task<byte[]> GetOrAddRevealSecretAsync(long window, byte[] proposed, CancellationToken cancellationToken = default)
    {
        foreach (var old in _windows.Keys.Where(w => w < window - 1))
        {
            _windows.TryRemove(old, out _);
        }

        return Task.FromResult(_windows.GetOrAdd(window, proposed));
    }
}
