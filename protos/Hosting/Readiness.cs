using System.Collections.Concurrent;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AdHocMirror.Hosting;

/// <summary>
/// Whether a program can do its job now: the standard gRPC health service answers SERVING only while no condition
/// holds it back (store not open, GeoIP database not loaded, shutting down). Conditions are set by the parts that know.
/// </summary>
public sealed class Readiness : IHealthCheck
{
    private readonly ConcurrentDictionary<string, string> _blockers = new(StringComparer.Ordinal);

    public void Block(string condition, string reason) => _blockers[condition] = reason;

    public void Clear(string condition) => _blockers.TryRemove(condition, out _);

    public void ShuttingDown() => Block("shutdown", "shutting down");

    public bool IsReady => _blockers.IsEmpty;

    /// <summary>Why not ready, e.g. <c>store: not open yet</c>; empty when ready.</summary>
    public string Reasons => string.Join("; ", _blockers.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}: {p.Value}"));

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(_blockers.IsEmpty ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy(Reasons));
}
