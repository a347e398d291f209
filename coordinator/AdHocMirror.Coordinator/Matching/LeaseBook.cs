using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace AdHocMirror.Coordinator.Matching;

/// <summary>
/// The leases handed out by FindMirror. An unreported lease gives its place back at its TTL; its
/// record stays a while longer so that a late ReportSync still counts.
/// </summary>
public sealed class LeaseBook : IDisposable
{
    private readonly ConcurrentDictionary<string, Lease> _leases = new(StringComparer.Ordinal);
    private readonly MatchingOptions _options;
    private readonly TimeProvider _clock;
    private readonly ITimer _sweeper;

    public LeaseBook(MatchingOptions options, TimeProvider clock)
    {
        _options = options;
        _clock = clock;
        var every = TimeSpan.FromTicks(Math.Clamp(options.LeaseTtl.Ticks / 4, TimeSpan.TicksPerSecond, TimeSpan.TicksPerMinute));
        _sweeper = clock.CreateTimer(_ => Sweep(), null, every, every);
    }

    /// <summary>Leases whose place is still taken.</summary>
    public int Held => _leases.Values.Count(l => !l.IsReleased);

    /// <summary>Takes a place on <paramref name="slot"/> if it has one free; null when it is full.</summary>
    internal Lease? TryTake(MirrorSlot slot, string clientTag)
    {
        if (!slot.TryAcquire())
        {
            return null;
        }

        Span<byte> id = stackalloc byte[16];
        RandomNumberGenerator.Fill(id);
        var lease = new Lease(Convert.ToHexStringLower(id), slot, clientTag, _clock.GetUtcNow() + _options.LeaseTtl);
        _leases[lease.Id] = lease;
        return lease;
    }

    /// <summary>Ends a lease by report: its place is given back (if expiry has not already) and its record dropped.</summary>
    internal Lease? Complete(string leaseId)
    {
        if (!_leases.TryRemove(leaseId, out var lease))
        {
            return null;
        }

        lease.Release();
        return lease;
    }

    /// <summary>
    /// Gives back the places of expired leases and forgets those past the grace for late reports, or,
    /// when clients that never report push the records past their cap, the oldest expired ones.
    /// </summary>
    public void Sweep()
    {
        var now = _clock.GetUtcNow();
        List<Lease>? expired = null;
        foreach (var (id, lease) in _leases)
        {
            if (now >= lease.ExpiresAt)
            {
                lease.Release();
                if (now >= lease.ExpiresAt + _options.LateReportGrace)
                {
                    _leases.TryRemove(id, out _);
                }
                else
                {
                    (expired ??= []).Add(lease);
                }
            }
        }

        var excess = _leases.Count - _options.MaxLeaseRecords;
        if (excess > 0 && expired is not null)
        {
            foreach (var lease in expired.OrderBy(l => l.ExpiresAt).Take(excess))
            {
                _leases.TryRemove(lease.Id, out _);
            }
        }
    }

    public void Dispose() => _sweeper.Dispose();
}
