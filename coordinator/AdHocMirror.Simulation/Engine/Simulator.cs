using AdHocMirror.Simulation.Results;
using AdHocMirror.Simulation.World;

namespace AdHocMirror.Simulation.Engine;

/// <summary>Runs a configuration with its volunteers and the same clients with none, side by side (one core each).</summary>
public static class Simulator
{
    public static async Task<SimulationReport> RunAsync(SimulationOptions options)
    {
        var population = new Population(options);
        var officialOnly = options.Clone();
        officialOnly.Volunteers = 0;
        var runs = await Task.WhenAll(
            Task.Run(() => RunOnceAsync(options, population)),
            Task.Run(() => RunOnceAsync(officialOnly, population)));
        return SimulationReport.Of(options, runs[0], runs[1]);
    }

    /// <summary>One run alone (no official-only comparison).</summary>
    public static Task<RunReport> RunOnceAsync(SimulationOptions options, Population? population = null) =>
        SwarmRun.RunAsync(options, population ?? new Population(options));
}
