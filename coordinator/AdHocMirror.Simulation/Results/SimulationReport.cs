using System.Text.Json;
using System.Text.Json.Serialization;
using AdHocMirror.Simulation.Engine;

namespace AdHocMirror.Simulation.Results;

/// <summary>A run with volunteers against an official-only run of the same clients, and the project's goal checked.</summary>
public sealed record SimulationReport
{
    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public required SimulationSettings Settings { get; init; }

    public required RunReport WithVolunteers { get; init; }

    public required RunReport OfficialOnly { get; init; }

    /// <summary>Official-only peak connections over the peak with volunteers.</summary>
    public required double OfficialPeakCut { get; init; }

    public required double OfficialMeanCut { get; init; }

    public required GoalCheck Goal { get; init; }

    public static SimulationReport Of(SimulationOptions options, RunReport withVolunteers, RunReport officialOnly)
    {
        var peakCut = Math.Round(officialOnly.OfficialPeakConnections / (double)Math.Max(1, withVolunteers.OfficialPeakConnections), 2);
        var meanCut = Math.Round(officialOnly.OfficialMeanConnections / Math.Max(0.01, withVolunteers.OfficialMeanConnections), 2);
        return new SimulationReport
        {
            Settings = SimulationSettings.Of(options),
            WithVolunteers = withVolunteers,
            OfficialOnly = officialOnly,
            OfficialPeakCut = peakCut,
            OfficialMeanCut = meanCut,
            Goal = new GoalCheck
            {
                VolunteersServe90Percent = withVolunteers.VolunteerServedShare >= 0.9,
                MedianDistanceBelowOfficial = withVolunteers.DistanceMedianKm < officialOnly.DistanceMedianKm,
                OfficialPeakCut5x = peakCut >= 5,
            },
        };
    }
}

public sealed record GoalCheck
{
    public required bool VolunteersServe90Percent { get; init; }

    public required bool MedianDistanceBelowOfficial { get; init; }

    public required bool OfficialPeakCut5x { get; init; }
}

/// <summary>The settings a report was made with, so that a figure can be reproduced.</summary>
public sealed record SimulationSettings
{
    public required int Seed { get; init; }

    public required int Clients { get; init; }

    public required double Days { get; init; }

    public required double WarmupDays { get; init; }

    public required double Volunteers { get; init; }

    public required int OfficialMirrors { get; init; }

    public required int OfficialMaxConnections { get; init; }

    public required double OfficialMarginKm { get; init; }

    public required double OfficialFarKm { get; init; }

    public required double SimilarDistanceKm { get; init; }

    public required double LeaseTtlSeconds { get; init; }

    public required int Candidates { get; init; }

    public required double SwarmUpstream { get; init; }

    public required double Dead { get; init; }

    public required double Stale { get; init; }

    public required double Malicious { get; init; }

    internal static SimulationSettings Of(SimulationOptions o) => new()
    {
        Seed = o.Seed,
        Clients = o.Clients,
        Days = o.Duration.TotalDays,
        WarmupDays = o.Warmup.TotalDays,
        Volunteers = o.Volunteers,
        OfficialMirrors = o.Coordinator.Matching.Official.Count(m => m.Protocol == Contracts.V1.Protocol.Rsync),
        OfficialMaxConnections = o.OfficialMaxConnections,
        OfficialMarginKm = o.Coordinator.Matching.OfficialMarginKm,
        OfficialFarKm = o.Coordinator.Matching.OfficialFarKm,
        SimilarDistanceKm = o.Coordinator.Matching.SimilarDistanceKm,
        LeaseTtlSeconds = o.Coordinator.Matching.LeaseTtl.TotalSeconds,
        Candidates = o.Candidates == 0 ? o.Coordinator.Matching.DefaultCount : (int)o.Candidates,
        SwarmUpstream = o.SwarmUpstream,
        Dead = o.Dead,
        Stale = o.Stale,
        Malicious = o.Malicious,
    };
}
