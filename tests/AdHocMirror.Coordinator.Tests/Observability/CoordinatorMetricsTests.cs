using AdHocMirror.Coordinator.Observability;
using AdHocMirror.Testing;

namespace AdHocMirror.Coordinator.Tests.Observability;

public sealed class CoordinatorMetricsTests
{
    [Fact]
    public async Task Counters_and_histograms_lose_nothing_under_concurrent_updates_and_buckets_are_cumulative()
    {
        var metrics = new CoordinatorMetrics(new ManualClock());
        var counter = metrics.AddCounter("test_calls_total", "calls", "result");
        var histogram = metrics.AddHistogram("test_seconds", "time", [0.001, 0.01, 0.1]);

        await Task.WhenAll(Enumerable.Range(0, 4).Select(worker => Task.Run(() =>
        {
            for (var i = 0; i < 25_000; i++)
            {
                counter.Inc(i % 2 == 0 ? "even" : "odd");
                histogram.Observe((i % 4) switch { 0 => 0.0005, 1 => 0.005, 2 => 0.05, _ => 1.0 });
            }
        })));

        Assert.Equal(50_000, counter.Get("even"));
        Assert.Equal(50_000, counter.Get("odd"));
        var samples = histogram.Samples().ToDictionary(p => p.Key, p => p.Value);
        Assert.Equal(25_000, samples["test_seconds_bucket{le=\"0.001\"}"]);
        Assert.Equal(50_000, samples["test_seconds_bucket{le=\"0.01\"}"]);
        Assert.Equal(75_000, samples["test_seconds_bucket{le=\"0.1\"}"]);
        Assert.Equal(100_000, samples["test_seconds_bucket{le=\"+Inf\"}"]);
        Assert.Equal(100_000, samples["test_seconds_count"]);
        Assert.Equal(25_000 * (0.0005 + 0.005 + 0.05 + 1.0), samples["test_seconds_sum"], 6);
    }
}
