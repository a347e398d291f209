using System.Buffers.Binary;
using System.Security.Cryptography;
using AdHocMirror.Contracts.V1;
using AdHocMirror.Coordinator.Matching.Privacy;

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
/// index, so a report finds it without a lookup, and above it 96 bits of a keyed hash (SipHash, a
/// key per process) of that index and the record's generation: unguessable without the key, new
/// each time a record is reused, and nothing of it stored, so a record is 32 bytes.
/// </remarks>
public sealed class LeaseBook : IDisposable
{
    private const int ChunkBits = 14;
    private const int ChunkSize = 1 << ChunkBits;

    private readonly Lock _gate = new();
    private readonly IdKeys _idKeys = IdKeys.Random();
    private readonly MatchingOptions _options;
    private readonly TimeProvider _clock;
    private readonly ITimer _sweeper;
    private readonly List<Entry[]> _chunks = [];
    private int[] _free = new int[ChunkSize];
    private int _freeCount;
    private int _used;
    private int _records;
    private int _held;
    private uint _generation;

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

        var expires = (_clock.GetUtcNow() + _options.LeaseTtl).UtcTicks;
        var promised = slot.Version;
        var promisedTicks = slot.VersionTicks;
        int index;
        uint generation;
        lock (_gate)
        {
            index = _freeCount > 0 ? _free[--_freeCount] : NewIndex();
            generation = ++_generation;
            At(index) = new Entry { Slot = slot, Promised = promised, ExpiresAtTicks = expires, Generation = generation, State = EntryState.Held };
            _records++;
            _held++;
        }

        return new Lease(_idKeys.IdOf(index, generation), slot, slot.KeyId, promised, promisedTicks, expires);
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
            if (low >= (uint)_used || At((int)low) is not { State: not EntryState.Free } entry || _idKeys.IdOf((int)low, entry.Generation) != id)
            {
                return null;
            }

            var index = (int)low;

            lease = entry.ToLease(id);
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
    /// A lease's record, 32 bytes (72 when it was a <see cref="Lease"/> and its state): the id is the record's index and
    /// a hash of it, the key id is the slot's (a rotated key gets a new slot) and the promised version's time is the
    /// version's, so none of them is stored. A busy coordinator keeps millions of these.
    /// </summary>
    private struct Entry
    {
        public MirrorSlot? Slot;
        public TreeVersion? Promised;
        public long ExpiresAtTicks;
        public uint Generation;
        public EntryState State;

        public readonly Lease ToLease(UInt128 id) =>
            new(id, Slot!, Slot!.KeyId, Promised!, Promised!.Generated is { } generated ? generated.ToDateTimeOffset().UtcTicks : 0, ExpiresAtTicks);
    }

    /// <summary>
    /// The keys of the ids' hash, drawn per process: ids of a restarted coordinator are unknown to it, as its records are.
    /// A generation repeats after 2^32 leases; an id that old names a record long since freed and reused.
    /// </summary>
    private sealed class IdKeys(ulong k0, ulong k1, ulong k2, ulong k3)
    {
        public static IdKeys Random()
        {
            Span<byte> bytes = stackalloc byte[32];
            RandomNumberGenerator.Fill(bytes);
            return new(
                BinaryPrimitives.ReadUInt64LittleEndian(bytes),
                BinaryPrimitives.ReadUInt64LittleEndian(bytes[8..]),
                BinaryPrimitives.ReadUInt64LittleEndian(bytes[16..]),
                BinaryPrimitives.ReadUInt64LittleEndian(bytes[24..]));
        }

        /// <summary>The index in the low 32 bits, 96 bits of two keyed hashes of (index, generation) above it.</summary>
        public UInt128 IdOf(int index, uint generation)
        {
            Span<byte> message = stackalloc byte[8];
            BinaryPrimitives.WriteInt32LittleEndian(message, index);
            BinaryPrimitives.WriteUInt32LittleEndian(message[4..], generation);
            var high = SipHash.Hash(k0, k1, message);
            var middle = (uint)SipHash.Hash(k2, k3, message);
            return new UInt128(high, ((ulong)middle << 32) | (uint)index);
        }
    }
}
