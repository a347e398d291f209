using AdHocMirror.Hosting;

namespace AdHocMirror.Coordinator.Hosting;

/// <summary>The running servers, for whoever needs their bound ports (tests, benchmarks).</summary>
public sealed class CoordinatorListeners
{
    public GrpcServerService Public { get; internal set; } = null!;

    public GrpcServerService Admin { get; internal set; } = null!;

    /// <summary>The plain HTTP metrics listener, or null when disabled.</summary>
    public GrpcServerService? Metrics { get; internal set; }
}
