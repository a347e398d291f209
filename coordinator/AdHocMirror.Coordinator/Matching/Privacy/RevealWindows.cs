using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;

namespace AdHocMirror.Coordinator.Matching.Privacy;

/// <summary>
/// The reveal windows' secrets this coordinator knows, in memory: FindMirror reads only these, never the
/// store. <see cref="RevealWindowSync"/> fills them from the store ahead of each window, so that every
/// coordinator on one database uses the same secret. A window that starts before its secret came (the
/// database was away) gets one of this process for its whole length: the budget still holds here, but a
/// network may see other volunteers from other coordinators until the next window.
/// </summary>
public sealed partial class RevealWindows(PrivacyOptions options, TimeProvider clock, ILogger<RevealWindows> logger)
{
    private readonly ConcurrentDictionary<long, byte[]> _secrets = new();
    private readonly long _windowTicks = Math.Max(1, options.RevealWindow.Ticks);
    private long _localWindows;

    /// <summary>The clock windows are counted by (the sync waits on it too).</summary>
    public TimeProvider Clock => clock;

    public long Current => clock.GetUtcNow().UtcTicks / _windowTicks;

    /// <summary>Windows whose secret was made here because the shared one had not come by their start.</summary>
    public long LocalWindows => Interlocked.Read(ref _localWindows);

    public DateTimeOffset StartOf(long window) => new(window * _windowTicks, TimeSpan.Zero);

    public bool Knows(long window) => _secrets.ContainsKey(window);

    /// <summary>The secret of <paramref name="window"/>, from memory; one of this process when none came in time.</summary>
    public byte[] SecretOf(long window)
    {
        if (_secrets.TryGetValue(window, out var secret))
        {
            return secret;
        }

        var local = RandomNumberGenerator.GetBytes(32);
        secret = _secrets.GetOrAdd(window, local);
        if (ReferenceEquals(secret, local))
        {
            Interlocked.Increment(ref _localWindows);
            LogLocalSecret(logger, window);
            Forget(window);
        }

        return secret;
    }

    /// <summary>
    /// Takes the shared secret of <paramref name="window"/>; false when the window already has one (the shared one
    /// came before, or the window started without it: a switch halfway would give every network a fresh budget).
    /// </summary>
    public bool Offer(long window, byte[] secret)
    {
        if (!_secrets.TryAdd(window, secret))
        {
            return false;
        }

        Forget(Current);
        return true;
    }

    /// <summary>Keeps the window before <paramref name="current"/> (calls in flight at the turn) and those after.</summary>
    private void Forget(long current)
    {
        foreach (var old in _secrets.Keys)
        {
            if (old < current - 1)
            {
                _secrets.TryRemove(old, out _);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reveal window {Window} started before the store gave its shared secret; this coordinator uses one of its own until the window ends, so a network may see other volunteers here than at other coordinators")]
    private static partial void LogLocalSecret(ILogger logger, long window);
}
