namespace AdHocMirror.Coordinator.Matching.Privacy;

/// <summary>
/// FindMirror calls per client network: a token bucket that holds a minute's worth and refills at
/// the configured rate. A sync needs one or two calls, so real users never meet it; a sweep does,
/// and is told how long to wait.
/// </summary>
public sealed class FindMirrorRateLimit(PrivacyOptions options, TimeProvider clock)
{
    private readonly NetworkTable<Bucket, byte> _buckets = new(options.MaxNetworks, 0);

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

        var wait = _buckets.With(network, (PerMinute: options.FindMirrorPerMinute, Now: clock.GetUtcNow().UtcTicks), static (ref bucket, _, fresh, state) =>
        {
            var perTick = state.PerMinute / (double)TimeSpan.TicksPerMinute;
            bucket.Tokens = fresh ? state.PerMinute : Math.Min(state.PerMinute, bucket.Tokens + (Math.Max(0, state.Now - bucket.Updated) * perTick));
            bucket.Updated = state.Now;
            if (bucket.Tokens >= 1)
            {
                bucket.Tokens -= 1;
                return 0L;
            }

            return (long)Math.Ceiling((1 - bucket.Tokens) / perTick);
        });
        retryAfter = TimeSpan.FromTicks(wait);
        return wait == 0;
    }

    /// <summary>Tokens left and when they were counted (UTC ticks).</summary>
    private struct Bucket
    {
        public double Tokens;
        public long Updated;
    }
}
