namespace AdHocMirror.Coordinator.Matching;

/// <summary>
/// The lease count of every mirror slot, side by side in fixed chunks of memory rather than one in
/// each slot object: a search reads the counts of the dozens of mirrors near a client, and from a
/// few hundred kilobytes that stay in the processor's cache that costs nanoseconds, where following
/// a pointer to each slot costs a cache miss.
/// </summary>
/// <remarks>
/// A counter is never moved (chunks are not resized) so that compare-and-swap on it stays safe while
/// the index grows, and never reused (four bytes per slot ever created), so that a lease taken while
/// its mirror leaves the index can only ever count against that mirror.
/// </remarks>
internal sealed class LeaseCounters
{
    private const int ChunkSize = 4096;
    private readonly Lock _gate = new();
    private int[] _chunk = [];
    private int _used;

    public (int[] Chunk, int Offset) Allocate()
    {
        lock (_gate)
        {
            if (_used == _chunk.Length)
            {
                _chunk = new int[ChunkSize];
                _used = 0;
            }

            return (_chunk, _used++);
        }
    }
}
