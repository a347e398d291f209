namespace AdHocMirror.Coordinator.Matching.Privacy;

/// <summary>
/// FindMirror calls per client network: a token bucket that holds a minute's worth and refills at
/// the configured rate. A sync needs one or two calls, so real users never meet it; a sweep does,
/// and is told how long to wait.
/// </summary>
public sealed class FindMirrorRateLimit(PrivacyOptions options, TimeProvider clock)
{
    private readonly NetworkTable<Bucket> _buckets = new(options.MaxNetworks);

    public bool Enabled => options.FindMirrorPerMinute > 0;

    /// <summary>Networks remembered.</summary>
    public int Networks => _buckets.Count;

    /// <summary>Takes one call for <paramref name="network"/>; false, with how long until the next one is allowed, when it has none left.</summary>
    public bool TryTake(ClientNetwork network, out TimeSpan retryAfter)
    {
        retryAfter = TimeSpan.Zero;
        if (!Enabled)
        {
            return true;
        }

        var perMinute = options.FindMirrorPerMinute;
        var now = clock.GetUtcNow().UtcTicks;
        var bucket = _buckets.GetOrAdd(network, static (_, state) => new Bucket(state.perMinute, state.now), (perMinute, now));
        lock (bucket)
        {
            var perTick = perMinute / (double)TimeSpan.TicksPerMinute;
            bucket.Tokens = Math.Min(perMinute, bucket.Tokens + (Math.Max(0, now - bucket.Updated) * perTick));
            bucket.Updated = now;
            if (bucket.Tokens >= 1)
            {
                bucket.Tokens -= 1;
                return true;
            }

            retryAfter = TimeSpan.FromTicks((long)Math.Ceiling((1 - bucket.Tokens) / perTick));
            return false;
        }
    }

    /// <summary>Tokens left and when they were counted (UTC ticks).</summary>
    private sealed class Bucket(double tokens, long updated)
    {
        public double Tokens = tokens;
        public long Updated = updated;
    }
}
