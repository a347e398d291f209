using AdHocMirror.Simulation.Results;
using ScottPlot;

namespace AdHocMirror.Simulation.Plots;

/// <summary>The report as PNG charts (ScottPlot, SkiaSharp underneath), each with a title, axis labels and units.</summary>
public static class PlotWriter
{
    private const int Width = 1000;
    private const int Height = 600;

    /// <summary>Writes the charts into <paramref name="directory"/> and returns their paths.</summary>
    /// <param name="shares">Served-by-volunteers share against volunteer share (both 0–1), one point per run.</param>
    public static IReadOnlyList<string> Write(string directory, SimulationReport report, IReadOnlyList<(double VolunteerShare, double Served)> shares)
    {
        Directory.CreateDirectory(directory);
        return
        [
            OfficialLoad(Path.Combine(directory, "official-load.png"), report),
            DistanceCdf(Path.Combine(directory, "distance-cdf.png"), report),
            Utilisation(Path.Combine(directory, "volunteer-utilisation.png"), report.WithVolunteers),
            Served(Path.Combine(directory, "served-by-volunteers.png"), shares),
        ];
    }

    private static string OfficialLoad(string path, SimulationReport report)
    {
        var plot = new Plot();
        var hours = Enumerable.Range(0, RunStats.MinutesPerDay).Select(m => m / 60.0).ToArray();
        var without = plot.Add.ScatterLine(hours, report.OfficialOnly.OfficialLoadByMinute);
        without.LegendText = "official mirrors only";
        var with = plot.Add.ScatterLine(hours, report.WithVolunteers.OfficialLoadByMinute);
        with.LegendText = $"with {report.Settings.Volunteers:0.#%} volunteers";
        plot.Title($"Official mirrors' load over a day ({report.Settings.Clients:N0} clients, {report.Settings.OfficialMirrors} official mirrors)");
        plot.XLabel("time of day (hours, UTC)");
        plot.YLabel("concurrent connections, all official mirrors (each minute, mean over the days)");
        plot.Axes.SetLimitsX(0, 24);
        plot.Axes.SetLimitsY(0, Math.Max(1, report.OfficialOnly.OfficialLoadByMinute.DefaultIfEmpty(0).Max() * 1.1));
        plot.ShowLegend();
        plot.SavePng(path, Width, Height);
        return path;
    }

    private static string DistanceCdf(string path, SimulationReport report)
    {
        var plot = new Plot();
        var official = Cdf(report.OfficialOnly.DistancesKm);
        var line = plot.Add.ScatterLine(official.X, official.Y);
        line.LegendText = "official mirrors only";
        var swarm = Cdf(report.WithVolunteers.DistancesKm);
        var swarmLine = plot.Add.ScatterLine(swarm.X, swarm.Y);
        swarmLine.LegendText = $"with {report.Settings.Volunteers:0.#%} volunteers";
        plot.Title("Distance from client to the mirror it synced from (CDF)");
        plot.XLabel("great-circle distance (km)");
        plot.YLabel("share of syncs at or below the distance");
        var right = Math.Max(Percentile(report.OfficialOnly.DistancesKm, 0.98), Percentile(report.WithVolunteers.DistancesKm, 0.98));
        plot.Axes.SetLimits(0, Math.Max(10, right), 0, 1.02);
        plot.ShowLegend(Alignment.LowerRight);
        plot.SavePng(path, Width, Height);
        return path;
    }

    private static string Utilisation(string path, RunReport run)
    {
        var plot = new Plot();
        const int bins = 20;

        // The axis ends just past the busiest volunteer (volunteers are usually far from full), at most at 100 %.
        var top = Math.Clamp(run.Utilisation.DefaultIfEmpty(0).Max() * 1.05, 0.01, 1) * 100;
        var width = top / bins;
        var counts = new double[bins];
        foreach (var u in run.Utilisation)
        {
            counts[Math.Clamp((int)(u * 100 / width), 0, bins - 1)]++;
        }

        var positions = Enumerable.Range(0, bins).Select(i => (i + 0.5) * width).ToArray();
        var bars = plot.Add.Bars(positions, counts);
        foreach (var bar in bars.Bars)
        {
            bar.Size = width * 0.9;
        }

        plot.Title($"Volunteers' utilisation while online ({run.Utilisation.Length:N0} volunteers; over-limit offers: {run.OverLimitOffers})");
        plot.XLabel("busy share of the volunteer's places, max_clients × time online (%)");
        plot.YLabel("volunteers");
        plot.Axes.SetLimits(0, top, 0, Math.Max(1, counts.Max() * 1.1));
        plot.SavePng(path, Width, Height);
        return path;
    }

    private static string Served(string path, IReadOnlyList<(double VolunteerShare, double Served)> shares)
    {
        var plot = new Plot();
        var points = shares.OrderBy(s => s.VolunteerShare).ToArray();
        var line = plot.Add.Scatter(points.Select(p => p.VolunteerShare * 100).ToArray(), points.Select(p => p.Served * 100).ToArray());
        line.MarkerSize = 8;
        var goal = plot.Add.HorizontalLine(90);
        goal.LegendText = "goal: 90 %";
        goal.LinePattern = LinePattern.Dashed;
        plot.Title("Syncs served by volunteers against the volunteers' share of clients");
        plot.XLabel("volunteers (% of clients)");
        plot.YLabel("syncs served by volunteers (%)");
        plot.Axes.SetLimits(0, Math.Max(1, points.DefaultIfEmpty().Max(p => p.VolunteerShare) * 110), 0, 100);
        plot.ShowLegend(Alignment.LowerRight);
        plot.SavePng(path, Width, Height);
        return path;
    }

    /// <summary>At most ~500 points of the empirical CDF of sorted values.</summary>
    private static (double[] X, double[] Y) Cdf(float[] sorted)
    {
        if (sorted.Length == 0)
        {
            return ([0], [0]);
        }

        var step = Math.Max(1, sorted.Length / 500);
        var x = new List<double>();
        var y = new List<double>();
        for (var i = 0; i < sorted.Length; i += step)
        {
            x.Add(sorted[i]);
            y.Add((i + 1) / (double)sorted.Length);
        }

        x.Add(sorted[^1]);
        y.Add(1);
        return ([.. x], [.. y]);
    }

    private static double Percentile(float[] sorted, double q) => sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)(q * sorted.Length))];
}
