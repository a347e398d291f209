using System.Numerics;

namespace AdHocMirror.Coordinator.Matching.Privacy;

/// <summary>
/// What the coordinator remembers per client network within one window, in memory only, bounded:
/// an attacker decides how many networks it comes from (IPv6 /48s are cheap), so past
/// <c>capacity</c> the oldest network is forgotten and its place reused. Entries are structs in
/// arrays, never an object per network: a table of 100,000 objects would be traced by every
/// collection and cost more than the lookups. Sharded by the network's tag, so that concurrent
/// calls from different networks rarely wait for each other; a new window empties a shard the
/// first time it is used in it.
/// </summary>
/// <typeparam name="T">Per network.</typeparam>
/// <typeparam name="TItem">Per network, <c>stride</c> of them (e.g. the volunteers it was shown).</typeparam>
internal sealed class NetworkTable<T, TItem>
    where T : struct
{
    private const int ShardCount = 16;
    private readonly Shard[] _shards;
    private long _evicted;

    public NetworkTable(int capacity, int stride)
    {
        var perShard = Math.Max(1, (capacity + ShardCount - 1) / ShardCount);
        _shards = Enumerable.Range(0, ShardCount).Select(_ => new Shard(perShard, stride, this)).ToArray();
    }

    /// <summary>Networks forgotten because the table was full.</summary>
    public long Evicted => Volatile.Read(ref _evicted);

    public int Count => _shards.Sum(s => s.Count);

    /// <summary>Runs <paramref name="work"/> on the entry of <paramref name="network"/> (a zeroed one when new) under its shard's lock.</summary>
    public TResult With<TState, TResult>(ClientNetwork network, TState state, Work<TState, TResult> work)
    {
        var slot = NoSlot;
        return With(network, ref slot, state, work);
    }

    /// <summary>As <see cref="With{TState, TResult}(ClientNetwork, TState, Work{TState, TResult})"/>, from where the network's entry was last time.</summary>
    /// <param name="slot">
    /// Where the entry was (<see cref="NoSlot"/> at first), set to where it is: the calls of one answer find it
    /// again without hashing. Trusted only while that place still holds the network's tag in its window, so
    /// that a stale one (the network forgotten, its place reused, a new window) looks the network up again.
    /// </param>
    public TResult With<TState, TResult>(ClientNetwork network, ref int slot, TState state, Work<TState, TResult> work)
    {
        var shard = _shards[(int)(network.Tag & (ShardCount - 1))];
        lock (shard.Gate)
        {
            var fresh = false;
            var at = shard.Holds(network, slot) ? slot : shard.SlotOf(network, out fresh);
            slot = at;
            return work(ref shard.Entry(at), shard.Items.AsSpan(at * shard.Stride, shard.Stride), fresh, state);
        }
    }

    /// <summary>A place no network has: look it up.</summary>
    public const int NoSlot = -1;

    public delegate TResult Work<TState, TResult>(ref T entry, Span<TItem> items, bool fresh, TState state);

    private sealed class Shard(int capacity, int stride, NetworkTable<T, TItem> table)
    {
        public readonly Lock Gate = new();
        public readonly int Stride = stride;

        // Where each network's slot is: open addressing by the tag's upper bits (a keyed hash already, so evenly
        // spread), at most half full. A lookup touches the index and the slot's cell, and forgetting a network
        // needs no lookup of it, where a Dictionary took a cache miss or two more for each.
        private Place[] _index = [];
        private Cell[] _cells = [];
        private int _filled;
        private int _next;
        private long _window = long.MinValue;

        public TItem[] Items = [];

        public int Count
        {
            get
            {
                lock (Gate)
                {
                    return _filled;
                }
            }
        }

        public ref T Entry(int at) => ref _cells[at].Entry;

        /// <summary>Whether <paramref name="at"/> is the slot of <paramref name="network"/>: filled in its window, with its tag.</summary>
        /// <remarks>A network has one slot at a time: its tag is written where it is put, and overwritten only when the slot is given to another.</remarks>
        public bool Holds(ClientNetwork network, int at) => network.Window == _window && (uint)at < (uint)_filled && _cells[at].Tag == network.Tag;

        /// <summary>The slot of <paramref name="network"/>; a new one (zeroed) when it had none, the oldest one's once full.</summary>
        public int SlotOf(ClientNetwork network, out bool fresh)
        {
            if (network.Window != _window)
            {
                // A new window forgets the last one's networks (their tags changed with the secret anyway).
                _index.AsSpan().Clear();
                _filled = _next = 0;
                _window = network.Window;
            }

            fresh = false;
            var hash = HashOf(network.Tag);
            if (_cells.Length != 0 && Find(network.Tag, hash) is var found and >= 0)
            {
                return found;
            }

            fresh = true;
            if (_cells.Length == 0)
            {
                // All at once, on first use: the bound is then memory actually taken, and growing
                // (large arrays, each a full collection) never happens while calls are answered.
                _index = new Place[BitOperations.RoundUpToPowerOf2((uint)capacity * 2)];
                _cells = new Cell[capacity];
                Items = new TItem[capacity * Stride];
            }

            int at;
            if (_filled < capacity)
            {
                at = _filled++;
            }
            else
            {
                at = _next;
                _next = (_next + 1) % capacity;
                Forget(at, HashOf(_cells[at].Tag));
                Interlocked.Increment(ref table._evicted);
            }

            var mask = _index.Length - 1;
            var i = (int)(hash & mask);
            while (_index[i].Slot != 0)
            {
                i = (i + 1) & mask;
            }

            _index[i] = new Place(at + 1, hash);
            _cells[at] = new Cell { Tag = network.Tag };
            Items.AsSpan(at * Stride, Stride).Clear();
            return at;
        }

        private static uint HashOf(UInt128 tag) => (uint)(ulong)(tag >> 64);

        private int Find(UInt128 tag, uint hash)
        {
            var mask = _index.Length - 1;
            for (var i = (int)(hash & mask); _index[i].Slot != 0; i = (i + 1) & mask)
            {
                var place = _index[i];
                if (place.Hash == hash && _cells[place.Slot - 1].Tag == tag)
                {
                    return place.Slot - 1;
                }
            }

            return -1;
        }

        /// <summary>Takes slot <paramref name="at"/> out of the index, moving back the places after it that it had pushed along (so no probe stops short).</summary>
        private void Forget(int at, uint hash)
        {
            var mask = _index.Length - 1;
            var i = (int)(hash & mask);
            while (_index[i].Slot != at + 1)
            {
                i = (i + 1) & mask;
            }

            for (var j = (i + 1) & mask; _index[j].Slot != 0; j = (j + 1) & mask)
            {
                // A place stays where it is when its home lies cyclically in (i, j]: a probe from there still reaches it.
                var home = (int)(_index[j].Hash & mask);
                if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
                {
                    continue;
                }

                _index[i] = _index[j];
                i = j;
            }

            _index[i] = default;
        }

        /// <summary>A network's slot (plus one: 0 is an empty place) and the bits of its tag its home is taken from.</summary>
        private readonly record struct Place(int Slot, uint Hash);

        private struct Cell
        {
            public UInt128 Tag;
            public T Entry;
        }
    }
}
