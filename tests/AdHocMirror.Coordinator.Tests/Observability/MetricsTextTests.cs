using System.Globalization;
using System.Text.RegularExpressions;
using AdHocMirror.Contracts;
using AdHocMirror.Contracts.V1;
using AdHocMirror.Coordinator.Observability;
using AdHocMirror.Coordinator.Tests.Support;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;

namespace AdHocMirror.Coordinator.Tests.Observability;

/// <summary>/metrics is valid Prometheus text (format 0.0.4) with the names, types and labels the README documents.</summary>
public sealed partial class MetricsTextTests
{
    // name → (type, label names of its series other than le)
    private static readonly Dictionary<string, (string Type, string[] Labels)> Documented = new(StringComparer.Ordinal)
    {
        ["ahm_registrations_total"] = ("counter", []),
        ["ahm_key_rotations_total"] = ("counter", []),
        ["ahm_refusals_total"] = ("counter", ["cause"]),
        ["ahm_logins_total"] = ("counter", []),
        ["ahm_logouts_total"] = ("counter", []),
        ["ahm_pings_total"] = ("counter", ["result"]),
        ["ahm_ping_latency_seconds"] = ("histogram", []),
        ["ahm_housekeeping_actions_total"] = ("counter", ["action"]),
        ["ahm_findmirror_calls_total"] = ("counter", ["result"]),
        ["ahm_findmirror_seconds"] = ("histogram", []),
        ["ahm_sync_bytes_total"] = ("counter", []),
        ["ahm_leases_held"] = ("gauge", []),
        ["ahm_matching_mirrors"] = ("gauge", ["protocol"]),
        ["ahm_mirrors"] = ("gauge", ["state"]),
        ["ahm_sessions"] = ("gauge", []),
        ["ahm_keys_live"] = ("gauge", []),
    };

    [Fact]
    public async Task Every_line_parses_and_families_have_their_documented_type_and_labels()
    {
        await using var c = await CoordinatorFixture.StartAsync();
        await c.RegisterAsync();
        await c.Admin.BlacklistNetworkAsync(new() { Prefix = "127.0.0.0/8", Reason = "x" });
        await Refused.WithAsync(StatusCode.PermissionDenied, RefusalCause.NetworkBlacklisted, () => c.RegisterAsync());
        var metrics = c.Host.Services.GetRequiredService<CoordinatorMetrics>();
        metrics.PingLatency.Observe(0.02);
        metrics.PingLatency.Observe(7);

        using var http = new HttpClient();
        var text = await http.GetStringAsync($"{c.MetricsAddress}/metrics");
        var families = Parse(text);

        foreach (var (name, (type, labels)) in Documented)
        {
            Assert.True(families.TryGetValue(name, out var family), $"{name} is missing from /metrics:\n{text}");
            Assert.Equal(type, family.Type);
            Assert.False(string.IsNullOrWhiteSpace(family.Help), $"{name} has no help text");
            foreach (var sample in family.Samples)
            {
                Assert.Equal(labels, sample.Labels.Keys.Where(k => k != "le").Order(StringComparer.Ordinal));
            }
        }

        Assert.Equal(1, Value(families, "ahm_registrations_total"));
        Assert.Equal(1, Value(families, "ahm_refusals_total", ("cause", RefusalCause.NetworkBlacklisted.ToString())));
        Assert.Equal(0, Value(families, "ahm_mirrors", ("state", "online")));
        Assert.Equal(1, Value(families, "ahm_keys_live"));

        // Buckets are cumulative, end with +Inf, and agree with _count and _sum.
        var ping = families["ahm_ping_latency_seconds"].Samples;
        var buckets = ping.Where(s => s.Name == "ahm_ping_latency_seconds_bucket").ToList();
        Assert.Equal(["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "+Inf"], buckets.Select(b => b.Labels["le"]));
        Assert.Equal([0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2], buckets.Select(b => b.Value));
        Assert.Equal(2, Value(families, "ahm_ping_latency_seconds_count"));
        Assert.Equal(7.02, Value(families, "ahm_ping_latency_seconds_sum"), 9);

        // admin stats flattens the same figures.
        var flat = metrics.Flatten();
        Assert.Equal(1, flat["ahm_registrations_total"]);
        Assert.Equal(1, flat[$"ahm_refusals_total{{cause=\"{RefusalCause.NetworkBlacklisted}\"}}"]);
        Assert.DoesNotContain(flat.Keys, k => k.Contains("_bucket", StringComparison.Ordinal));
    }

    [Fact]
    public void Gauges_are_read_at_each_scrape_and_label_values_that_are_gone_leave_the_output()
    {
        var metrics = new CoordinatorMetrics(new Testing.ManualClock());
        var states = new Dictionary<string, double> { ["online"] = 3, ["stale"] = 1 };
        metrics.AddGauge("test_mirrors", "Mirrors by state.", () => states.ToList(), "state");
        Assert.Equal(1, Value(Parse(metrics.ToPrometheusText()), "test_mirrors", ("state", "stale")));

        states.Remove("stale");
        states["online"] = 4;
        var families = Parse(metrics.ToPrometheusText());
        Assert.Equal(4, Value(families, "test_mirrors", ("state", "online")));
        Assert.DoesNotContain(families["test_mirrors"].Samples, s => s.Labels["state"] == "stale");
    }

    private static double Value(Dictionary<string, Family> families, string series, params (string Name, string Value)[] labels) =>
        families.Values.SelectMany(f => f.Samples)
            .Single(s => s.Name == series && labels.All(l => s.Labels.TryGetValue(l.Name, out var v) && v == l.Value) && s.Labels.Count(l => l.Key != "le") == labels.Length)
            .Value;

    /// <summary>A strict reader of the text format: comments before samples, every sample in a declared family.</summary>
    private static Dictionary<string, Family> Parse(string text)
    {
        Assert.EndsWith("\n", text, StringComparison.Ordinal);
        var families = new Dictionary<string, Family>(StringComparer.Ordinal);
        foreach (var line in text.TrimEnd('\n').Split('\n'))
        {
            if (HelpLine().Match(line) is { Success: true } help)
            {
                Assert.False(families.ContainsKey(help.Groups[1].Value), $"second HELP for {help.Groups[1].Value}");
                families[help.Groups[1].Value] = new Family { Help = help.Groups[2].Value };
                continue;
            }

            if (TypeLine().Match(line) is { Success: true } type)
            {
                Assert.True(families.TryGetValue(type.Groups[1].Value, out var declared) && declared.Type is null && declared.Samples.Count == 0, $"misplaced TYPE line: {line}");
                declared.Type = type.Groups[2].Value;
                continue;
            }

            var sample = SampleLine().Match(line);
            Assert.True(sample.Success, $"not a sample line: '{line}'");
            var name = sample.Groups["name"].Value;
            var labels = sample.Groups["label"].Captures.Select((capture, i) => (capture.Value, sample.Groups["value"].Captures[i].Value))
                .ToDictionary(p => p.Item1, p => p.Item2, StringComparer.Ordinal);
            var owner = families.Keys.SingleOrDefault(f => name == f || (families[f].Type == "histogram" && name is var n && (n == f + "_bucket" || n == f + "_sum" || n == f + "_count")));
            Assert.True(owner is not null, $"sample {name} outside a declared family");
            Assert.True(families[owner].Type == "histogram" ? name.EndsWith("_bucket", StringComparison.Ordinal) == labels.ContainsKey("le") : !labels.ContainsKey("le"), line);
            var number = sample.Groups["number"].Value;
            var value = number switch
            {
                "+Inf" => double.PositiveInfinity,
                "-Inf" => double.NegativeInfinity,
                "NaN" => double.NaN,
                _ => double.Parse(number, NumberStyles.Float, CultureInfo.InvariantCulture),
            };
            families[owner].Samples.Add(new Sample(name, labels, value));
        }

        return families;
    }

    [GeneratedRegex(@"^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$")]
    private static partial Regex HelpLine();

    [GeneratedRegex(@"^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$")]
    private static partial Regex TypeLine();

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{((?<label>[a-zA-Z_][a-zA-Z0-9_]*)=""(?<value>(?:[^""\\\n]|\\[\\""n])*)"",?)*\})? (?<number>[-+]?(?:[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?|Inf)|NaN)$")]
    private static partial Regex SampleLine();

    private sealed class Family
    {
        public string Help { get; init; } = string.Empty;

        public string? Type { get; set; }

        public List<Sample> Samples { get; } = [];
    }

    private sealed record Sample(string Name, Dictionary<string, string> Labels, double Value);
}
