using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Prometheus;

namespace AdHocMirror.Coordinator.Observability;

/// <summary>
/// The coordinator's figures, served as Prometheus text on /metrics and flattened for <c>admin stats</c>.
/// Other parts (matching) add their own families with <see cref="AddCounter"/>, <see cref="AddGauge"/>
/// and <see cref="AddHistogram"/>. Each instance has its own prometheus-net registry: tests run several
/// coordinators in one process, and the library's static default registry would mix their figures.
/// </summary>
public sealed class CoordinatorMetrics
{
    private readonly CollectorRegistry _registry = Metrics.NewCustomRegistry();
    private readonly IMetricFactory _factory;

    public CoordinatorMetrics(TimeProvider clock)
    {
        _factory = Metrics.WithCustomRegistry(_registry);

        // Exemplars would copy trace ids of calls into the figures (and cost a check per update); we want neither.
        _factory.ExemplarBehavior = ExemplarBehavior.NoExemplars();
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

    public Counter AddCounter(string name, string help, string? label = null) =>
        new(this, name, _factory.CreateCounter(name, help, label is null ? [] : [label]), label is not null);

    /// <summary>A gauge whose values <paramref name="read"/> gives at each scrape (keys are label values; ignored without a label).</summary>
    public Gauge AddGauge(string name, string help, Func<IEnumerable<KeyValuePair<string, double>>> read, string? label = null)
    {
        var gauge = new Gauge(this, name, _factory.CreateGauge(name, help, label is null ? [] : [label]), label is not null, read);
        _registry.AddBeforeCollectCallback(gauge.Refresh);
        return gauge;
    }

    public Histogram AddHistogram(string name, string help, double[] bounds) =>
        new(this, name, _factory.CreateHistogram(name, help, new HistogramConfiguration { Buckets = bounds }));

    /// <summary>Prometheus text format 0.0.4.</summary>
    public string ToPrometheusText()
    {
        using var text = new MemoryStream();

        // Into memory, with synchronous gauge callbacks: completes without waiting on anything.
        _registry.CollectAndExportAsTextAsync(text).GetAwaiter().GetResult();
        return Encoding.UTF8.GetString(text.GetBuffer(), 0, (int)text.Length);
    }

    /// <summary>Every series as <c>name{label="x"}</c> → value, the same figures as /metrics.</summary>
    public IReadOnlyDictionary<string, double> Flatten()
    {
        var values = new SortedDictionary<string, double>(StringComparer.Ordinal);
        foreach (var (series, value) in Samples())
        {
            if (!series.Contains("_bucket", StringComparison.Ordinal))
            {
                values[series] = value;
            }
        }

        return values;
    }

    /// <summary>The sample lines of one scrape as series → value.</summary>
    private IEnumerable<KeyValuePair<string, double>> Samples()
    {
        foreach (var line in ToPrometheusText().Split('\n'))
        {
            var space = line.LastIndexOf(' ');
            if (line.Length == 0 || line[0] == '#' || space <= 0)
            {
                continue;
            }

            yield return new(line[..space], ParseValue(line[(space + 1)..]));
        }
    }

    private static double ParseValue(string text) => text switch
    {
        "+Inf" => double.PositiveInfinity,
        "-Inf" => double.NegativeInfinity,
        "NaN" => double.NaN,
        _ => double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture),
    };

    public abstract class MetricFamily(CoordinatorMetrics owner, string name)
    {
        public string Name { get; } = name;

        /// <summary>This family's series as /metrics has them (a scrape: for tests and diagnostics, not hot paths).</summary>
        public IEnumerable<KeyValuePair<string, double>> Samples() => owner.Samples().Where(p => Belongs(p.Key));

        private bool Belongs(string series)
        {
            if (!series.StartsWith(Name, StringComparison.Ordinal))
            {
                return false;
            }

            var rest = series.AsSpan(Name.Length);
            return rest.IsEmpty || rest[0] == '{' || rest.StartsWith("_bucket") || rest.StartsWith("_sum") || rest.StartsWith("_count");
        }
    }

    public sealed class Counter : MetricFamily
    {
        private readonly Prometheus.Counter _counter;
        private readonly bool _labelled;

        // prometheus-net finds a child by its label values on every WithLabels; FindMirror counts on every call, so look it up once.
        private readonly ConcurrentDictionary<string, Prometheus.Counter.Child> _children = new(StringComparer.Ordinal);

        internal Counter(CoordinatorMetrics owner, string name, Prometheus.Counter counter, bool labelled)
            : base(owner, name)
        {
            _counter = counter;
            _labelled = labelled;
        }

        public void Inc(string? labelValue = null, double by = 1)
        {
            if (_labelled)
            {
                Child(labelValue).Inc(by);
            }
            else
            {
                _counter.Inc(by);
            }
        }

        public double Get(string? labelValue = null) =>
            !_labelled ? _counter.Value : _children.TryGetValue(labelValue ?? string.Empty, out var child) ? child.Value : 0;

        private Prometheus.Counter.Child Child(string? labelValue)
        {
            var key = labelValue ?? string.Empty;
            return _children.TryGetValue(key, out var child) ? child : _children.GetOrAdd(key, _counter.WithLabels(key));
        }
    }

    public sealed class Gauge : MetricFamily
    {
        private readonly Prometheus.Gauge _gauge;
        private readonly bool _labelled;
        private readonly Func<IEnumerable<KeyValuePair<string, double>>> _read;
        private readonly Lock _refreshing = new();

        internal Gauge(CoordinatorMetrics owner, string name, Prometheus.Gauge gauge, bool labelled, Func<IEnumerable<KeyValuePair<string, double>>> read)
            : base(owner, name)
        {
            _gauge = gauge;
            _labelled = labelled;
            _read = read;
        }

        /// <summary>Reads the current values just before a scrape; label values that are gone leave the output.</summary>
        internal void Refresh()
        {
            lock (_refreshing)
            {
                if (!_labelled)
                {
                    foreach (var (_, value) in _read())
                    {
                        _gauge.Set(value);
                    }

                    return;
                }

                var current = new HashSet<string>(StringComparer.Ordinal);
                foreach (var (key, value) in _read())
                {
                    _gauge.WithLabels(key).Set(value);
                    current.Add(key);
                }

                foreach (var labels in _gauge.GetAllLabelValues())
                {
                    if (!current.Contains(labels[0]))
                    {
                        _gauge.RemoveLabelled(labels[0]);
                    }
                }
            }
        }
    }

    public sealed class Histogram : MetricFamily
    {
        private readonly Prometheus.Histogram _histogram;

        internal Histogram(CoordinatorMetrics owner, string name, Prometheus.Histogram histogram)
            : base(owner, name)
        {
            _histogram = histogram;
        }

        public void Observe(double value) => _histogram.Observe(value);
    }
}
