namespace AdHocMirror.Coordinator.Cluster;

/// <summary>
/// Rendezvous (highest random weight) hashing: every coordinator, knowing the same live set, names the
/// same owner for a session without asking anyone, and when one coordinator goes only its sessions move.
/// The hash is FNV-1a with a 64-bit finaliser: stable across processes and machines (string.GetHashCode is not).
/// </summary>
public static class RendezvousHash
{
    /// <summary>The owner of <paramref name="key"/> among <paramref name="members"/>, or null when there are none.</summary>
    public static string? Owner(IReadOnlyList<string> members, string key)
    {
        string? best = null;
        var bestScore = 0UL;
        foreach (var member in members)
        {
            var score = Hash(member, key);
            if (best is null || score > bestScore || (score == bestScore && string.CompareOrdinal(member, best) < 0))
            {
                (best, bestScore) = (member, score);
            }
        }

        return best;
    }

    public static ulong Hash(string a, string b = "")
    {
        var h = 14695981039346656037UL;
        foreach (var c in a)
        {
            h = (h ^ c) * 1099511628211UL;
        }

        h = (h ^ '/') * 1099511628211UL;
        foreach (var c in b)
        {
            h = (h ^ c) * 1099511628211UL;
        }

        // MurmurHash3's fmix64: FNV alone leaves the high bits poorly mixed for short keys.
        h ^= h >> 33;
        h *= 0xff51afd7ed558ccdUL;
        h ^= h >> 33;
        h *= 0xc4ceb9fe1a85ec53UL;
        h ^= h >> 33;
        return h;
    }
}
