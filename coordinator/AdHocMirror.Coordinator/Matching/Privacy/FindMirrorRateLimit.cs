namespace AdHocMirror.Coordinator.Matching.Privacy;

/// <summary>
/// FindMirror calls per client network: a token bucket that holds a minute's worth and refills at
/// the configured rate. A sync needs one or two calls, so real users never meet it; a sweep does,
/// and is told how long to wait. Its buckets are the networks' records (<see cref="NetworkRecords"/>), shared with the reveal budget.
/// </summary>
public sealed class FindMirrorRateLimit(PrivacyOptions options, TimeProvider clock, NetworkRecords records)
{
    /// <summary>With a table of its own (tests, tools).</summary>
    public FindMirrorRateLimit(PrivacyOptions options, TimeProvider clock)
        : this(options, clock, new NetworkRecords(options))
    {
    }

    public bool Enabled => options.FindMirrorPerMinute > 0;

    /// <summary>Networks remembered (shared with the reveal budget).</summary>
    public int Networks => records.Count;

    /// <summary>Takes one call for <paramref name="network"/>; false, with how long until the next one is allowed, when it has none left.</summary>
    public bool TryTake(ClientNetwork network, out TimeSpan retryAfter)
    {
        var slot = NetworkTable<NetworkRecord, string?>.NoSlot;
        return TryTake(network, ref slot, out retryAfter);
    }

    /// <summary>As <see cref="TryTake(ClientNetwork, out TimeSpan)"/>; <paramref name="slot"/> is set to where the network's record is, for the budget.</summary>
    internal bool TryTake(ClientNetwork network, ref int slot, out TimeSpan retryAfter)
    {
        retryAfter = TimeSpan.Zero;
        if (!Enabled)
        {
            return true;
        }

        var wait = records.Table.With(network, ref slot, (PerMinute: options.FindMirrorPerMinute, Now: clock.GetUtcNow().UtcTicks), static (ref bucket, _, _, state) =>
        {
            var perTick = state.PerMinute / (double)TimeSpan.TicksPerMinute;
            // A record the budget made first, or a new one, has Updated 0: a full minute's worth.
            bucket.Tokens = Math.Min(state.PerMinute, bucket.Tokens + (Math.Max(0, state.Now - bucket.Updated) * perTick));
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
}
