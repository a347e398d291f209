using System.Buffers.Binary;
using System.Security.Cryptography;
using AdHocMirror.Contracts.V1;

namespace AdHocMirror.Coordinator.Matching;

/// <summary>
/// The leases handed out by FindMirror. An unreported lease gives its place back at its TTL; its
/// record stays a while longer so that a late ReportSync still counts.
/// </summary>
/// <remarks>
/// Records live in arrays of structs with a free list, not as an object each in a dictionary: a busy
/// coordinator holds hundreds of thousands of leases for minutes, and as objects they would be
/// copied from generation to generation by every collection. The arrays are fixed-size chunks, added
/// as needed and never copied, so growing never holds calls up. A lease id carries its record's
/// index, so a report finds it without a lookup.
/// </remarks>
public sealed class LeaseBook : IDisposable
{
    private const int ChunkBits = 14;
    private const int ChunkSize = 1 << ChunkBits;

    [ThreadStatic]
    private static RandomBits? t_random;

    private readonly Lock _gate = new();
    private readonly MatchingOptions _options;
    private readonly TimeProvider _clock;
    private readonly ITimer _sweeper;
    private readonly List<Entry[]> _chunks = [];
    private int[] _free = new int[ChunkSize];
    private int _freeCount;
    private int _used;
    private int _records;
    private int _held;

    public LeaseBook(MatchingOptions options, TimeProvider clock)
    {
        _options = options;
        _clock = clock;
        var every = TimeSpan.FromTicks(Math.Clamp(options.LeaseTtl.Ticks / 4, TimeSpan.TicksPerSecond, TimeSpan.TicksPerMinute));
        _sweeper = clock.CreateTimer(_ => Sweep(), null, every, every);
    }

    /// <summary>Leases whose place is still taken.</summary>
    public int Held => Volatile.Read(ref _held);

    /// <summary>Lease records kept: held ones, and expired ones a late report may still name.</summary>
    public int Records => Volatile.Read(ref _records);

    /// <summary>Takes a place on <paramref name="slot"/> if it has one free; null when it is full.</summary>
    internal Lease? TryTake(MirrorSlot slot)
    {
        if (!slot.TryAcquire())
        {
            return null;
        }

        var random = (t_random ??= new RandomBits()).Next96();
        var expires = (_clock.GetUtcNow() + _options.LeaseTtl).UtcTicks;
        lock (_gate)
        {
            var index = _freeCount > 0 ? _free[--_freeCount] : NewIndex();
            var lease = new Lease((random << 32) | (uint)index, slot, slot.KeyId, slot.Version, slot.VersionTicks, expires);
            At(index) = Entry.Held(lease);
            _records++;
            _held++;
            return lease;
        }
    }

    /// <summary>Ends a lease by report: its place is given back (if expiry has not already) and its record dropped.</summary>
    internal Lease? Complete(string leaseId)
    {
        if (!Lease.TryParse(leaseId, out var id))
        {
            return null;
        }

        Lease lease;
        bool wasHeld;
        lock (_gate)
        {
            // The low half names the record; a forged id may name one past the end, or past int.MaxValue.
            var low = (uint)id;
            if (low >= (uint)_used || At((int)low) is not { State: not EntryState.Free } entry || entry.IdAt((int)low) != id)
            {
                return null;
            }

            var index = (int)low;

            lease = entry.ToLease(index);
            wasHeld = entry.State == EntryState.Held;
            FreeLocked(index, wasHeld);
        }

        if (wasHeld)
        {
            lease.Slot.Release();
        }

        return lease;
    }

    /// <summary>
    /// Gives back the places of expired leases and forgets those past the grace for late reports, or,
    /// when clients that never report push the records past their cap, the oldest expired ones.
    /// </summary>
    public void Sweep()
    {
        var now = _clock.GetUtcNow().UtcTicks;
        var grace = _options.LateReportGrace.Ticks;

        // Expired records kept for late reports, counted per second of expiry: enough to find which are the oldest
        // when the cap is passed, without a list of them all (a busy book holds millions) or a sort.
        Dictionary<long, int>? expiredPerSecond = null;
        var released = new List<MirrorSlot>();
        for (var start = 0; start < Volatile.Read(ref _used); start += ChunkSize)
        {
            // A chunk at a time, so that FindMirror calls never wait behind a whole sweep.
            lock (_gate)
            {
                for (var i = start; i < Math.Min(_used, start + ChunkSize); i++)
                {
                    ref var entry = ref At(i);
                    if (entry.State == EntryState.Free || now < entry.ExpiresAtTicks)
                    {
                        continue;
                    }

                    if (entry.State == EntryState.Held)
                    {
                        released.Add(entry.Slot!);
                        entry.State = EntryState.Expired;
                        _held--;
                    }

                    if (now >= entry.ExpiresAtTicks + grace)
                    {
                        FreeLocked(i, wasHeld: false);
                    }
                    else
                    {
                        expiredPerSecond ??= [];
                        var second = entry.ExpiresAtTicks / TimeSpan.TicksPerSecond;
                        expiredPerSecond[second] = expiredPerSecond.GetValueOrDefault(second) + 1;
                    }
                }
            }

            foreach (var slot in released)
            {
                slot.Release();
            }

            released.Clear();
        }

        var excess = Records - _options.MaxLeaseRecords;
        if (excess > 0 && expiredPerSecond is not null)
        {
            ForgetOldestExpired(excess, expiredPerSecond);
        }
    }

    /// <summary>Frees about <paramref name="excess"/> expired records, oldest second of expiry first, a chunk at a time.</summary>
    private void ForgetOldestExpired(int excess, Dictionary<long, int> expiredPerSecond)
    {
        // Every record of the seconds before the cut goes, and just enough of the cut's own second.
        var cut = long.MaxValue;
        var beforeCut = 0;
        foreach (var second in expiredPerSecond.Keys.Order())
        {
            if (beforeCut + expiredPerSecond[second] >= excess)
            {
                cut = second;
                break;
            }

            beforeCut += expiredPerSecond[second];
        }

        var atCut = excess - beforeCut;
        for (var start = 0; start < Volatile.Read(ref _used); start += ChunkSize)
        {
            lock (_gate)
            {
                for (var i = start; i < Math.Min(_used, start + ChunkSize); i++)
                {
                    ref var entry = ref At(i);
                    if (entry.State != EntryState.Expired)
                    {
                        continue;
                    }

                    var second = entry.ExpiresAtTicks / TimeSpan.TicksPerSecond;
                    if (second < cut || (second == cut && atCut-- > 0))
                    {
                        FreeLocked(i, wasHeld: false);
                    }
                }
            }
        }
    }

    public void Dispose() => _sweeper.Dispose();

    private ref Entry At(int index) => ref _chunks[index >> ChunkBits][index & (ChunkSize - 1)];

    private int NewIndex()
    {
        if (_used == _chunks.Count * ChunkSize)
        {
            _chunks.Add(new Entry[ChunkSize]);
        }

        return _used++;
    }

    private void FreeLocked(int index, bool wasHeld)
    {
        At(index) = default; // drops the references, and the id, so a reused index never matches an old id
        if (_freeCount == _free.Length)
        {
            Array.Resize(ref _free, _free.Length * 2);
        }

        _free[_freeCount++] = index;
        _records--;
        if (wasHeld)
        {
            _held--;
        }
    }

    private enum EntryState : byte
    {
        Free,
        Held,
        Expired,
    }

    /// <summary>
    /// A lease's record, 48 bytes instead of the 72 a <see cref="Lease"/> and its state took: the id's low 32 bits are
    /// the record's index and the key id is the slot's (a rotated key gets a new slot), so neither is stored.
    /// A busy coordinator keeps millions of these.
    /// </summary>
    private struct Entry
    {
        public MirrorSlot? Slot;
        public TreeVersion? Promised;
        public long PromisedTicks;
        public long ExpiresAtTicks;
        public ulong IdHigh;
        public uint IdMiddle;
        public EntryState State;

        public static Entry Held(Lease lease) => new()
        {
            Slot = lease.Slot,
            Promised = lease.Promised,
            PromisedTicks = lease.PromisedTicks,
            ExpiresAtTicks = lease.ExpiresAtTicks,
            IdHigh = (ulong)(lease.Id >> 64),
            IdMiddle = (uint)(lease.Id >> 32),
            State = EntryState.Held,
        };

        public readonly UInt128 IdAt(int index) => new(IdHigh, ((ulong)IdMiddle << 32) | (uint)index);

        public readonly Lease ToLease(int index) => new(IdAt(index), Slot!, Slot!.KeyId, Promised!, PromisedTicks, ExpiresAtTicks);
    }

    /// <summary>Random bits from a per-thread buffer: one call to the system's generator per 256 leases, not one per lease.</summary>
    private sealed class RandomBits
    {
        private readonly byte[] _buffer = new byte[16 * 256];
        private int _used = int.MaxValue;

        public UInt128 Next96()
        {
            if (_used >= _buffer.Length)
            {
                RandomNumberGenerator.Fill(_buffer);
                _used = 0;
            }

            var bits = BinaryPrimitives.ReadUInt128LittleEndian(_buffer.AsSpan(_used, 16)) >> 32;
            _buffer.AsSpan(_used, 16).Clear(); // a used id does not linger in memory
            _used += 16;
            return bits;
        }
    }
}
