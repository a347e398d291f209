using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace AdHocMirror.Coordinator.Observability;

/// <summary>
/// The coordinator's figures, served as Prometheus text on /metrics and flattened for <c>admin stats</c>.
/// Other parts (matching) add their own families with <see cref="AddCounter"/>, <see cref="AddGauge"/>
/// and <see cref="AddHistogram"/>.
/// </summary>
public sealed class CoordinatorMetrics
{
    private readonly ConcurrentQueue<MetricFamily> _families = new();

    public CoordinatorMetrics(TimeProvider clock)
    {
        StartedAt = clock.GetUtcNow();
        Registrations = AddCounter("ahm_registrations_total", "Keys issued by Register.");
        Rotations = AddCounter("ahm_key_rotations_total", "Keys exchanged by RotateKey.");
        Refusals = AddCounter("ahm_refusals_total", "Calls refused, by cause.", "cause");
        Logins = AddCounter("ahm_logins_total", "Sessions opened by Login.");
        Logouts = AddCounter("ahm_logouts_total", "Sessions ended by Logout.");
        Pings = AddCounter("ahm_pings_total", "Liveness pings, by result (ok, failed, forged).", "result");
        PingLatency = AddHistogram("ahm_ping_latency_seconds", "Round trip of answered pings.", [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]);
        Housekeeping = AddCounter("ahm_housekeeping_actions_total", "Housekeeping actions, by action.", "action");
    }

    public DateTimeOffset StartedAt { get; }

    public Counter Registrations { get; }

    public Counter Rotations { get; }

    public Counter Refusals { get; }

    public Counter Logins { get; }

    public Counter Logouts { get; }

    public Counter Pings { get; }

    public Histogram PingLatency { get; }

    public Counter Housekeeping { get; }

    public Counter AddCounter(string name, string help, string? label = null) => Add(new Counter(name, help, label));

    public Gauge AddGauge(string name, string help, Func<IEnumerable<KeyValuePair<string, double>>> read, string? label = null) => Add(new Gauge(name, help, label, read));

    public Histogram AddHistogram(string name, string help, double[] bounds) => Add(new Histogram(name, help, bounds));

    public string ToPrometheusText()
    {
        var text = new StringBuilder();
        foreach (var family in _families)
        {
            text.Append(CultureInfo.InvariantCulture, $"# HELP {family.Name} {family.Help}\n# TYPE {family.Name} {family.Type}\n");
            foreach (var (series, value) in family.Samples())
            {
                text.Append(series).Append(' ').Append(Format(value)).Append('\n');
            }
        }

        return text.ToString();
    }

    /// <summary>Every series as <c>name{label="x"}</c> → value, the same figures as /metrics.</summary>
    public IReadOnlyDictionary<string, double> Flatten()
    {
        var values = new SortedDictionary<string, double>(StringComparer.Ordinal);
        foreach (var family in _families)
        {
            foreach (var (series, value) in family.Samples())
            {
                if (!series.Contains("_bucket", StringComparison.Ordinal))
                {
                    values[series] = value;
                }
            }
        }

        return values;
    }

    private T Add<T>(T family)
        where T : MetricFamily
    {
        _families.Enqueue(family);
        return family;
    }

    private static string Format(double value) =>
        double.IsPositiveInfinity(value) ? "+Inf" : value.ToString("R", CultureInfo.InvariantCulture);

    public abstract class MetricFamily(string name, string help, string type)
    {
        public string Name { get; } = name;

        public string Help { get; } = help;

        public string Type { get; } = type;

        public abstract IEnumerable<KeyValuePair<string, double>> Samples();

        protected string Series(string? label, string? value, string suffix = "") =>
            label is null ? Name + suffix : $"{Name}{suffix}{{{label}=\"{value}\"}}";
    }

    public sealed class Counter(string name, string help, string? label) : MetricFamily(name, help, "counter")
    {
        private readonly ConcurrentDictionary<string, StrongBox> _values = new(StringComparer.Ordinal);

        public void Inc(string? labelValue = null, double by = 1)
        {
            var box = _values.GetOrAdd(labelValue ?? string.Empty, _ => new StrongBox());
            AddAtomically(ref box.Value, by);
        }

        public double Get(string? labelValue = null) => _values.TryGetValue(labelValue ?? string.Empty, out var box) ? box.Value : 0;

        public override IEnumerable<KeyValuePair<string, double>> Samples()
        {
            if (label is null)
            {
                yield return new(Series(null, null), Get());
                yield break;
            }

            foreach (var (key, box) in _values.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                yield return new(Series(label, key), box.Value);
            }
        }

        private sealed class StrongBox
        {
            public double Value;
        }
    }

    /// <summary>Lock-free: counters sit on every FindMirror call, and a lock there makes request threads queue on each other.</summary>
    private static void AddAtomically(ref double target, double value)
    {
        var seen = Volatile.Read(ref target);
        while (true)
        {
            var was = Interlocked.CompareExchange(ref target, seen + value, seen);
            if (was.Equals(seen))
            {
                return;
            }

            seen = was;
        }
    }

    public sealed class Gauge(string name, string help, string? label, Func<IEnumerable<KeyValuePair<string, double>>> read) : MetricFamily(name, help, "gauge")
    {
        public override IEnumerable<KeyValuePair<string, double>> Samples() =>
            read().Select(p => new KeyValuePair<string, double>(label is null ? Name : Series(label, p.Key), p.Value));
    }

    public sealed class Histogram(string name, string help, double[] bounds) : MetricFamily(name, help, "histogram")
    {
        // Per bucket (not cumulative) so that an observation is one atomic increment; summed when scraped.
        private readonly long[] _buckets = new long[bounds.Length + 1];
        private double _sum;

        public void Observe(double value)
        {
            var bucket = 0;
            while (bucket < bounds.Length && value > bounds[bucket])
            {
                bucket++;
            }

            Interlocked.Increment(ref _buckets[bucket]);
            AddAtomically(ref _sum, value);
        }

        public override IEnumerable<KeyValuePair<string, double>> Samples()
        {
            var list = new List<KeyValuePair<string, double>>();
            long cumulative = 0;
            for (var i = 0; i < bounds.Length; i++)
            {
                cumulative += Volatile.Read(ref _buckets[i]);
                list.Add(new(Series("le", bounds[i].ToString("R", CultureInfo.InvariantCulture), "_bucket"), cumulative));
            }

            cumulative += Volatile.Read(ref _buckets[^1]);
            list.Add(new(Series("le", "+Inf", "_bucket"), cumulative));
            list.Add(new(Name + "_sum", Volatile.Read(ref _sum)));
            list.Add(new(Name + "_count", cumulative));
            return list;
        }
    }
}
