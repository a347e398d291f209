using AdHocMirror.Simulation.Engine;

namespace AdHocMirror.Simulation.Results;

/// <summary>The figures of one run (after its warm-up). Serialised with snake_case names; README lists them.</summary>
public sealed record RunReport
{
    public required double VolunteerShare { get; init; }

    public required int Volunteers { get; init; }

    public required long Syncs { get; init; }

    public required long ServedByVolunteers { get; init; }

    public required long ServedByOfficial { get; init; }

    public required long Failed { get; init; }

    public required double VolunteerServedShare { get; init; }

    public required double OfficialServedShare { get; init; }

    /// <summary>Syncs that tried a volunteer and ended on an official mirror.</summary>
    public required long Fallbacks { get; init; }

    public required long NoVolunteerOffered { get; init; }

    public required int OfficialPeakConnections { get; init; }

    public required double OfficialMeanConnections { get; init; }

    public required int OfficialBusiestMirrorPeak { get; init; }

    public required long OfficialRefused { get; init; }

    public required double DistanceMedianKm { get; init; }

    public required double DistanceP90Km { get; init; }

    public required long Offers { get; init; }

    public required long OverLimitOffers { get; init; }

    public required long StaleOffers { get; init; }

    public required long DeadOffers { get; init; }

    public required long RefusedAtLimit { get; init; }

    public required int Quarantined { get; init; }

    public required int QuarantinedFaulty { get; init; }

    public required long VolunteerSyncsFromOfficial { get; init; }

    public required long VolunteerSyncsFromVolunteers { get; init; }

    public required long VolunteerSyncsUpToDate { get; init; }

    public required long VolunteerSyncsFailed { get; init; }

    public required double UtilisationMean { get; init; }

    public required double UtilisationP90 { get; init; }

    /// <summary>Most simultaneous clients any volunteer had, as a share of its limit (≤ 1 when no limit was broken).</summary>
    public required double PeakOverLimitRatio { get; init; }

    public required long FindMirrorCalls { get; init; }

    public required double FindMirrorPeakPerSecond { get; init; }

    public required double FindMirrorPeakMinutePerSecond { get; init; }

    public required double FindMirrorMeanPerSecond { get; init; }

    public required double ElapsedSeconds { get; init; }

    /// <summary>Mean official connections by hour of the day (UTC), 24 values.</summary>
    public required double[] OfficialLoadByHour { get; init; }

    /// <summary>For plots: mean official connections per minute of the day (UTC).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public double[] OfficialLoadByMinute { get; init; } = [];

    [System.Text.Json.Serialization.JsonIgnore]
    public float[] DistancesKm { get; init; } = [];

    /// <summary>For plots: each volunteer's busy share of its places while online.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public double[] Utilisation { get; init; } = [];

    internal static RunReport From(
        SimulationOptions options, RunStats stats, IReadOnlyList<Volunteer> volunteers, IReadOnlyList<Official> officials, int initialVolunteers, int quarantinedFaulty, int quarantined, TimeSpan elapsed)
    {
        var countedSeconds = Math.Max(1, (options.Duration - options.Warmup).TotalSeconds);
        var distances = stats.Distances.ToArray();
        Array.Sort(distances);
        var utilisation = volunteers
            .Where(v => v.UpSeconds >= 3600)
            .Select(v => v.ConnectionSeconds / (v.UpSeconds * v.MaxClients))
            .OrderBy(u => u)
            .ToArray();
        var byMinute = new double[RunStats.MinutesPerDay];
        for (var m = 0; m < byMinute.Length; m++)
        {
            byMinute[m] = stats.SamplesByMinute[m] == 0 ? 0 : stats.OfficialLoadByMinute[m] / stats.SamplesByMinute[m];
        }

        var syncs = Math.Max(1, stats.Syncs);
        return new RunReport
        {
            VolunteerShare = options.Volunteers,
            Volunteers = initialVolunteers,
            Syncs = stats.Syncs,
            ServedByVolunteers = stats.ByVolunteers,
            ServedByOfficial = stats.ByOfficial,
            Failed = stats.Failed,
            VolunteerServedShare = Math.Round(stats.ByVolunteers / (double)syncs, 4),
            OfficialServedShare = Math.Round(stats.ByOfficial / (double)syncs, 4),
            Fallbacks = stats.Fallbacks,
            NoVolunteerOffered = stats.NoVolunteerOffered,
            OfficialPeakConnections = stats.OfficialPeak,
            OfficialMeanConnections = Math.Round(stats.OfficialConnectionSeconds / countedSeconds, 2),
            OfficialBusiestMirrorPeak = officials.Count == 0 ? 0 : officials.Max(o => o.PeakConnections),
            OfficialRefused = stats.OfficialRefused,
            DistanceMedianKm = Math.Round(Quantile(distances, 0.5), 1),
            DistanceP90Km = Math.Round(Quantile(distances, 0.9), 1),
            Offers = stats.Offers,
            OverLimitOffers = stats.OverLimitOffers,
            StaleOffers = stats.StaleOffers,
            DeadOffers = stats.DeadOffers,
            RefusedAtLimit = stats.RefusedAtLimit,
            Quarantined = quarantined,
            QuarantinedFaulty = quarantinedFaulty,
            VolunteerSyncsFromOfficial = stats.VolunteerSyncsFromOfficial,
            VolunteerSyncsFromVolunteers = stats.VolunteerSyncsFromVolunteers,
            VolunteerSyncsUpToDate = stats.VolunteerSyncsUpToDate,
            VolunteerSyncsFailed = stats.VolunteerSyncsFailed,
            UtilisationMean = utilisation.Length == 0 ? 0 : Math.Round(utilisation.Average(), 4),
            UtilisationP90 = Math.Round(Quantile(utilisation, 0.9), 4),
            PeakOverLimitRatio = volunteers.Count == 0 ? 0 : Math.Round(volunteers.Max(v => v.PeakConnections / (double)v.MaxClients), 4),
            FindMirrorCalls = stats.FindMirrorCalls,
            FindMirrorPeakPerSecond = stats.PeakCallsPerSecond,
            FindMirrorPeakMinutePerSecond = Math.Round(stats.PeakCallsPerMinute / 60.0, 2),
            FindMirrorMeanPerSecond = Math.Round(stats.FindMirrorCalls / countedSeconds, 2),
            ElapsedSeconds = Math.Round(elapsed.TotalSeconds, 2),
            OfficialLoadByHour = [.. Enumerable.Range(0, 24).Select(h => Math.Round(byMinute.Skip(h * 60).Take(60).Average(), 2))],
            OfficialLoadByMinute = byMinute,
            DistancesKm = distances,
            Utilisation = utilisation,
        };
    }

    private static double Quantile<T>(T[] sorted, double q)
        where T : System.Numerics.INumber<T>
    {
        if (sorted.Length == 0)
        {
            return 0;
        }

        return double.CreateChecked(sorted[Math.Min(sorted.Length - 1, (int)(q * sorted.Length))]);
    }
}
