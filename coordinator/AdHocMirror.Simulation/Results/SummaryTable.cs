using System.Globalization;
using Spectre.Console;

namespace AdHocMirror.Simulation.Results;

/// <summary>The terminal view: one table of a run against official-only, or one row per swept value.</summary>
public static class SummaryTable
{
    public static void Write(IAnsiConsole console, SimulationReport report)
    {
        var s = report.Settings;
        var w = report.WithVolunteers;
        var o = report.OfficialOnly;
        var table = new Table().Border(TableBorder.Rounded)
            .Title($"{s.Clients:N0} clients, {s.Days:0.##} days ({s.WarmupDays:0.##} warm-up), seed {s.Seed}, {s.OfficialMirrors} official mirrors")
            .AddColumn("figure").AddColumn(new TableColumn($"with {w.Volunteers:N0} volunteers ({Pct(s.Volunteers)})").RightAligned())
            .AddColumn(new TableColumn("official only").RightAligned());
        table.AddRow("syncs counted", N(w.Syncs), N(o.Syncs));
        table.AddRow("served by volunteers", $"{N(w.ServedByVolunteers)} ({Pct(w.VolunteerServedShare)})", "-");
        table.AddRow("served by official mirrors", $"{N(w.ServedByOfficial)} ({Pct(w.OfficialServedShare)})", $"{N(o.ServedByOfficial)} ({Pct(o.OfficialServedShare)})");
        table.AddRow("failed (no source worked)", N(w.Failed), N(o.Failed));
        table.AddRow("official peak connections (all mirrors)", $"{w.OfficialPeakConnections} ({report.OfficialPeakCut:0.##}x less)", o.OfficialPeakConnections.ToString(CultureInfo.InvariantCulture));
        table.AddRow("official mean connections", $"{w.OfficialMeanConnections:0.##} ({report.OfficialMeanCut:0.##}x less)", o.OfficialMeanConnections.ToString("0.##", CultureInfo.InvariantCulture));
        table.AddRow("busiest official mirror's peak", w.OfficialBusiestMirrorPeak.ToString(CultureInfo.InvariantCulture), o.OfficialBusiestMirrorPeak.ToString(CultureInfo.InvariantCulture));
        table.AddRow("distance median / p90 (km)", $"{w.DistanceMedianKm:0} / {w.DistanceP90Km:0}", $"{o.DistanceMedianKm:0} / {o.DistanceP90Km:0}");
        table.AddRow("syncs offered no volunteer", N(w.NoVolunteerOffered), "-");
        table.AddRow("fallbacks (volunteer tried, official served)", N(w.Fallbacks), "-");
        table.AddRow("offers / over-limit offers", $"{N(w.Offers)} / {N(w.OverLimitOffers)}", "-");
        table.AddRow("stale offers / dead offers", $"{N(w.StaleOffers)} / {N(w.DeadOffers)}", "-");
        table.AddRow("turned away at a volunteer's limit", N(w.RefusedAtLimit), "-");
        table.AddRow("quarantined (of them faulty)", $"{w.Quarantined} ({w.QuarantinedFaulty})", "-");
        table.AddRow("volunteer utilisation mean / p90", $"{Pct(w.UtilisationMean)} / {Pct(w.UtilisationP90)}", "-");
        table.AddRow("volunteers' syncs: official / swarm / up to date", $"{N(w.VolunteerSyncsFromOfficial)} / {N(w.VolunteerSyncsFromVolunteers)} / {N(w.VolunteerSyncsUpToDate)}", "-");
        table.AddRow("FindMirror calls/s: mean / peak minute / peak second", $"{w.FindMirrorMeanPerSecond:0.#} / {w.FindMirrorPeakMinutePerSecond:0.#} / {w.FindMirrorPeakPerSecond:0}", $"{o.FindMirrorMeanPerSecond:0.#} / {o.FindMirrorPeakMinutePerSecond:0.#} / {o.FindMirrorPeakPerSecond:0}");
        table.AddRow("run time (s)", w.ElapsedSeconds.ToString("0.0", CultureInfo.InvariantCulture), o.ElapsedSeconds.ToString("0.0", CultureInfo.InvariantCulture));
        console.Write(table);
        var g = report.Goal;
        console.MarkupLine($"goal: ≥ 90 % by volunteers {Mark(g.VolunteersServe90Percent)}, median distance below official {Mark(g.MedianDistanceBelowOfficial)}, official peak cut ≥ 5x {Mark(g.OfficialPeakCut5x)}");
    }

    public static void WriteSweep(IAnsiConsole console, string name, IReadOnlyList<(string Value, SimulationReport Report)> rows)
    {
        var table = new Table().Border(TableBorder.Rounded).Title($"sweep of --{name}")
            .AddColumn(name).AddColumn("by volunteers").AddColumn("official peak (cut)").AddColumn("official mean (cut)")
            .AddColumn("median / p90 km").AddColumn("official-only median km").AddColumn("fallbacks").AddColumn("over-limit").AddColumn("FindMirror peak/s");
        foreach (var column in table.Columns.Skip(1))
        {
            column.RightAligned();
        }

        foreach (var (value, r) in rows)
        {
            var w = r.WithVolunteers;
            table.AddRow(
                Markup.Escape(value),
                Pct(w.VolunteerServedShare),
                $"{w.OfficialPeakConnections} ({r.OfficialPeakCut:0.#}x)",
                $"{w.OfficialMeanConnections:0.#} ({r.OfficialMeanCut:0.#}x)",
                $"{w.DistanceMedianKm:0} / {w.DistanceP90Km:0}",
                r.OfficialOnly.DistanceMedianKm.ToString("0", CultureInfo.InvariantCulture),
                N(w.Fallbacks),
                N(w.OverLimitOffers),
                w.FindMirrorPeakPerSecond.ToString("0", CultureInfo.InvariantCulture));
        }

        console.Write(table);
    }

    private static string Mark(bool met) => met ? "[green]met[/]" : "[red]missed[/]";

    private static string N(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    private static string Pct(double share) => (share * 100).ToString("0.#", CultureInfo.InvariantCulture) + " %";
}
