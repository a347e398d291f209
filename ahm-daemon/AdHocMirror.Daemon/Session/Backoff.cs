namespace AdHocMirror.Daemon.Session;

/// <summary>Exponential backoff with full jitter: each wait is random in [base/2, base], base doubling up to a cap.</summary>
public sealed class Backoff(TimeSpan min, TimeSpan max, Random? random = null)
{
    private readonly Random _random = random ?? Random.Shared;
    private int _failures;

    public int Failures => _failures;

    public TimeSpan Next()
    {
        var exponent = Math.Min(_failures++, 30);
        var ceiling = Math.Min(max.TotalMilliseconds, min.TotalMilliseconds * Math.Pow(2, exponent));
        // Half fixed, half random: spreads reconnecting mirrors without ever retrying at once.
        return TimeSpan.FromMilliseconds((ceiling / 2) + (_random.NextDouble() * ceiling / 2));
    }

    public void Reset() => _failures = 0;
}
