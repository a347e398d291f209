using System.Numerics;

namespace AdHocMirror.GeoIP;

/// <summary>
/// Counts running lookups on counters spread over cache lines by thread, so that threads looking
/// up at the same time do not fight over one counter.
/// </summary>
internal sealed class LookupCounter
{
    private const int Spacing = 16; // longs: 128 bytes between counters
    private readonly long[] _counters;
    private readonly int _mask;

    public LookupCounter()
    {
        var stripes = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(8, Environment.ProcessorCount * 2));
        _counters = new long[stripes * Spacing];
        _mask = stripes - 1;
    }

    public long Running
    {
        get
        {
            long sum = 0;
            for (var i = 0; i < _counters.Length; i += Spacing)
            {
                sum += Interlocked.Read(ref _counters[i]);
            }

            return sum;
        }
    }

    public int Enter()
    {
        var stripe = (Environment.CurrentManagedThreadId & _mask) * Spacing;
        Interlocked.Increment(ref _counters[stripe]);
        return stripe;
    }

    public void Exit(int stripe) => Interlocked.Decrement(ref _counters[stripe]);
}
