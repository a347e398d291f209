using System.Globalization;

namespace AdHocMirror.Bench;

/// <summary>Paired timings of one sync kind (bare rsync and ahm-sync in the same round): medians and spreads (min–max).</summary>
internal sealed class Paired(string name)
{
    private readonly List<(double Bare, double Ahm)> _rounds = [];

    public string Name { get; } = name;

    public void Add(TimeSpan bare, TimeSpan ahm) => _rounds.Add((bare.TotalSeconds, ahm.TotalSeconds));

    public override string ToString()
    {
        static string Spread(IEnumerable<double> values, string format)
        {
            var sorted = values.Order().ToList();
            var middle = sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
            return string.Create(CultureInfo.InvariantCulture, $"{middle.ToString(format, CultureInfo.InvariantCulture)} ({sorted[0].ToString(format, CultureInfo.InvariantCulture)}–{sorted[^1].ToString(format, CultureInfo.InvariantCulture)})");
        }

        return _rounds.Count == 0 ? $"{Name,-24} no rounds" : string.Create(CultureInfo.InvariantCulture,
            $"{Name,-24} bare rsync {Spread(_rounds.Select(r => r.Bare), "F2")} s   ahm-sync {Spread(_rounds.Select(r => r.Ahm), "F2")} s   ratio {Spread(_rounds.Select(r => r.Ahm / r.Bare), "F2")}");
    }
}
