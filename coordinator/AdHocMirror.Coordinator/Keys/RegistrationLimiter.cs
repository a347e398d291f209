using System.Net;

namespace AdHocMirror.Coordinator.Keys;

/// <summary>
/// Counts registrations per source network in a sliding hour. In memory: a restart forgets the
/// counts, which only lets a flooder start over once; addresses are not kept, only network prefixes.
/// </summary>
public sealed class RegistrationLimiter(KeyOptions options, TimeProvider clock)
{
    private static readonly TimeSpan Window = TimeSpan.FromHours(1);
    private readonly Lock _gate = new();
    private readonly Dictionary<IPNetwork, Queue<DateTimeOffset>> _recent = [];

    /// <summary>Takes one registration for the network of <paramref name="address"/>; false when its hour is full.</summary>
    public bool TryTake(IPAddress address)
    {
        var network = SourceNetwork.Of(address);
        var now = clock.GetUtcNow();
        lock (_gate)
        {
            if (!_recent.TryGetValue(network, out var times))
            {
                times = new Queue<DateTimeOffset>();
                _recent[network] = times;
            }

            while (times.Count > 0 && times.Peek() <= now - Window)
            {
                times.Dequeue();
            }

            if (times.Count >= options.RegistrationsPerNetworkPerHour)
            {
                return false;
            }

            times.Enqueue(now);
            return true;
        }
    }

    /// <summary>Drops networks with nothing in the window (housekeeping).</summary>
    public void Trim()
    {
        var now = clock.GetUtcNow();
        lock (_gate)
        {
            foreach (var (network, times) in _recent.ToList())
            {
                while (times.Count > 0 && times.Peek() <= now - Window)
                {
                    times.Dequeue();
                }

                if (times.Count == 0)
                {
                    _recent.Remove(network);
                }
            }
        }
    }
}
