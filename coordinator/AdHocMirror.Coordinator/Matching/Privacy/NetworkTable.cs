namespace AdHocMirror.Coordinator.Matching.Privacy;

/// <summary>
/// What the coordinator remembers per client network within one window, in memory only, bounded:
/// an attacker decides how many networks it comes from (IPv6 /48s are cheap), so past
/// <c>capacity</c> the oldest entry is forgotten. Sharded by the network's tag, so that concurrent
/// calls from different networks rarely wait for each other; a new window empties a shard the first
/// time it is used in it.
/// </summary>
internal sealed class NetworkTable<T>
    where T : class
{
    private const int ShardCount = 16;
    private readonly Shard[] _shards;
    private readonly int _perShard;
    private long _evicted;

    public NetworkTable(int capacity)
    {
        _perShard = Math.Max(1, (capacity + ShardCount - 1) / ShardCount);
        _shards = Enumerable.Range(0, ShardCount).Select(_ => new Shard()).ToArray();
    }

    /// <summary>Networks forgotten because the table was full.</summary>
    public long Evicted => Volatile.Read(ref _evicted);

    public int Count => _shards.Sum(s => s.Count);

    /// <summary>The entry of <paramref name="network"/> in its window, made by <paramref name="create"/> when there is none.</summary>
    public T GetOrAdd<TState>(ClientNetwork network, Func<ClientNetwork, TState, T> create, TState state)
    {
        var shard = _shards[(int)(network.Tag & (ShardCount - 1))];
        lock (shard.Gate)
        {
            shard.Enter(network.Window);
            if (shard.Entries.TryGetValue(network.Tag, out var entry))
            {
                return entry;
            }

            if (shard.Entries.Count >= _perShard && shard.Order.TryDequeue(out var oldest))
            {
                shard.Entries.Remove(oldest);
                Interlocked.Increment(ref _evicted);
            }

            entry = create(network, state);
            shard.Entries[network.Tag] = entry;
            shard.Order.Enqueue(network.Tag);
            return entry;
        }
    }

    /// <summary>The entry of <paramref name="network"/> if it is remembered in its window.</summary>
    public T? Find(ClientNetwork network)
    {
        var shard = _shards[(int)(network.Tag & (ShardCount - 1))];
        lock (shard.Gate)
        {
            return shard.Window == network.Window && shard.Entries.TryGetValue(network.Tag, out var entry) ? entry : null;
        }
    }

    private sealed class Shard
    {
        public readonly Lock Gate = new();
        public readonly Dictionary<UInt128, T> Entries = [];
        public readonly Queue<UInt128> Order = new();
        public long Window = long.MinValue;

        public int Count
        {
            get
            {
                lock (Gate)
                {
                    return Entries.Count;
                }
            }
        }

        public void Enter(long window)
        {
            if (window != Window)
            {
                // A new window forgets the last one's networks (their tags changed with the secret anyway).
                Entries.Clear();
                Entries.TrimExcess();
                Order.Clear();
                Order.TrimExcess();
                Window = window;
            }
        }
    }
}
