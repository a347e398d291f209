namespace AdHocMirror.Coordinator.Liveness;

public sealed class PingOptions
{
    /// <summary>Time between pings of one mirror, before jitter.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Each interval is stretched or shrunk by up to this fraction, so pings do not synchronise.</summary>
    public double Jitter { get; set; } = 0.1;

    /// <summary>Consecutive failed pings that take a mirror offline.</summary>
    public int FailuresToOffline { get; set; } = 3;

    /// <summary>Longest wait for one answer (connect included).</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Pings in flight at once.</summary>
    public int MaxConcurrency { get; set; } = 64;
}
