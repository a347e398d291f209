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
            lock (box)
            {
                box.Value += by;
            }
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

    public sealed class Gauge(string name, string help, string? label, Func<IEnumerable<KeyValuePair<string, double>>> read) : MetricFamily(name, help, "gauge")
    {
        public override IEnumerable<KeyValuePair<string, double>> Samples() =>
            read().Select(p => new KeyValuePair<string, double>(label is null ? Name : Series(label, p.Key), p.Value));
    }

    public sealed class Histogram(string name, string help, double[] bounds) : MetricFamily(name, help, "histogram")
    {
        private readonly Lock _gate = new();
        private readonly long[] _buckets = new long[bounds.Length];
        private double _sum;
        private long _count;

        public void Observe(double value)
        {
            lock (_gate)
            {
                _sum += value;
                _count++;
                for (var i = 0; i < bounds.Length; i++)
                {
                    if (value <= bounds[i])
                    {
                        _buckets[i]++;
                    }
                }
            }
        }

        public override IEnumerable<KeyValuePair<string, double>> Samples()
        {
            lock (_gate)
            {
                var list = new List<KeyValuePair<string, double>>();
                for (var i = 0; i < bounds.Length; i++)
                {
                    list.Add(new(Series("le", bounds[i].ToString("R", CultureInfo.InvariantCulture), "_bucket"), _buckets[i]));
                }

                list.Add(new(Series("le", "+Inf", "_bucket"), _count));
                list.Add(new(Name + "_sum", _sum));
                list.Add(new(Name + "_count", _count));
                return list;
            }
        }
    }
}
