namespace AdHocMirror.Coordinator.Matching.Privacy;

/// <summary>How much of the swarm one client network may see, and how often it may ask.</summary>
public sealed class PrivacyOptions
{
    /// <summary>Distinct volunteers FindMirror reveals to one client network (IPv4 /24, IPv6 /48) per window; 0 = no budget.</summary>
    public int RevealBudget { get; set; } = 8;

    /// <summary>The budget's window; its secret (the key of each network's stable choice) rotates with it.</summary>
    public TimeSpan RevealWindow { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// How long before a window starts its shared secret is fetched from the store (at most half a window), so that
    /// FindMirror never waits on the database; a failed fetch is retried until the window starts.
    /// </summary>
    public TimeSpan RevealSecretLead { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Most client networks remembered (one record each, shared by budget and rate limit): beyond it the oldest is forgotten,
    /// and starts over with the same stable choice of volunteers.
    /// </summary>
    public int MaxNetworks { get; set; } = 100_000;

    /// <summary>FindMirror calls per client network per minute (a minute's worth may come at once); 0 = no limit.</summary>
    public int FindMirrorPerMinute { get; set; } = 20;

    public const string RetryPushbackTrailer = "grpc-retry-pushback-ms";
}
