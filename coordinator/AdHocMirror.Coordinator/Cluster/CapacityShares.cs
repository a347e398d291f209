using AdHocMirror.Coordinator.Matching;

namespace AdHocMirror.Coordinator.Cluster;

/// <summary>
/// Divides each mirror's limit between the live coordinators: with n of them, each may lease limit/n,
/// the remainder going to coordinators picked by the mirror's hash so that small limits spread. No
/// database call is on the FindMirror path, so matching keeps answering from memory when the database
/// is away. When the set of coordinators changes, a share that shrinks does so at once, and one that
/// grows waits until every coordinator has seen the change and shrunk its own
/// (<see cref="ClusterOptions.SettleTime"/>) and until the leases handed out under the old, larger
/// shares have expired (the lease TTL): the places promised never sum to more than the limit. A
/// dead coordinator's leases are likewise counted until they expire.
/// </summary>
public sealed class CapacityShares : ICapacityShare, IDisposable
{
    private readonly Lock _gate = new();
    private readonly string _self;
    private readonly TimeSpan _growAfter;
    private readonly TimeProvider _clock;
    private readonly ITimer _settled;
    private readonly List<(string[] View, DateTimeOffset ReplacedAt)> _recent = [];
    private string[] _current = [];

    public CapacityShares(string self, ClusterOptions options, TimeSpan leaseTtl, TimeProvider clock)
    {
        _self = self;
        _growAfter = options.SettleTime > leaseTtl ? options.SettleTime : leaseTtl;
        _clock = clock;
        _settled = clock.CreateTimer(_ => Changed?.Invoke(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    public event Action? Changed;

    /// <summary>Takes the new set of live coordinators (sorted ids, this one included).</summary>
    public void Update(IReadOnlyList<string> live)
    {
        lock (_gate)
        {
            if (live.SequenceEqual(_current))
            {
                return;
            }

            // Alone at start, no other coordinator holds leases on these mirrors (a coordinator's leases
            // live in its memory and end with it), so the whole limit is this one's at once. Otherwise
            // every view replaced less than the grow delay ago still bounds the share: another
            // coordinator may not have left it yet, or still have leases from it.
            if (_current.Length > 0 || live.Count != 1 || live[0] != _self)
            {
                var now = _clock.GetUtcNow();
                _recent.Add((_current, now));
                _recent.RemoveAll(r => now - r.ReplacedAt >= _growAfter);
                _settled.Change(_growAfter + TimeSpan.FromMilliseconds(50), Timeout.InfiniteTimeSpan); // just after, so the grown share is what it reads
            }

            _current = [.. live];
        }

        Changed?.Invoke();
    }

    public int ShareOf(string keyId, int limit)
    {
        lock (_gate)
        {
            var share = Share(_current, keyId, limit);
            var now = _clock.GetUtcNow();
            foreach (var (view, replacedAt) in _recent)
            {
                if (now - replacedAt < _growAfter)
                {
                    share = Math.Min(share, Share(view, keyId, limit));
                }
            }

            return share;
        }
    }

    /// <summary>Ends the wait for growth now (tests, and staff who know no lease is outstanding).</summary>
    public void SettleNow()
    {
        lock (_gate)
        {
            _recent.Clear();
        }

        Changed?.Invoke();
    }

    public void Dispose() => _settled.Dispose();

    private int Share(string[] members, string keyId, int limit)
    {
        var rank = Array.IndexOf(members, _self);
        if (rank < 0 || members.Length == 0)
        {
            return 0;
        }

        var n = members.Length;
        var turn = (int)((uint)(rank + (int)(RendezvousHash.Hash(keyId) % (ulong)n)) % (uint)n);
        return (limit / n) + (turn < limit % n ? 1 : 0);
    }
}
