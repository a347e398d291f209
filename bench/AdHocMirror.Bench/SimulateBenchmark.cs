using System.Diagnostics;
using System.Globalization;
using AdHocMirror.Coordinator.Hosting;
using AdHocMirror.Simulation.Engine;
using AdHocMirror.Simulation.World;

namespace AdHocMirror.Bench;

/// <summary>
/// <c>ahm-bench simulate [--clients N] [--days D]</c>: wall and CPU time of <c>ahm-simulate</c>'s default run (200,000
/// clients, 7 days, with volunteers and official-only side by side), against the 60 s target on 2 cores.
/// </summary>
public static class SimulateBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var coordinator = new CoordinatorOptions();
        coordinator.Matching.Official = OfficialRotation.Build();
        var options = new SimulationOptions { Coordinator = coordinator };
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--clients": options.Clients = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--days": options.Duration = TimeSpan.FromDays(double.Parse(args[i + 1], CultureInfo.InvariantCulture)); break;
                default:
                    Console.Error.WriteLine($"ahm-bench simulate: unknown option {args[i]}");
                    return 2;
            }
        }

        var process = Process.GetCurrentProcess();
        var cpu = process.TotalProcessorTime;
        var started = Stopwatch.GetTimestamp();
        var report = await Simulator.RunAsync(options);
        var wall = Stopwatch.GetElapsedTime(started).TotalSeconds;
        process.Refresh();
        var cpuSeconds = (process.TotalProcessorTime - cpu).TotalSeconds;
        var w = report.WithVolunteers;
        Console.WriteLine($"simulate: {options.Clients:N0} clients, {options.Duration.TotalDays:0.##} days, {w.Volunteers:N0} volunteers, {Environment.ProcessorCount} cores");
        Console.WriteLine($"  syncs counted:        {w.Syncs:N0} (with volunteers), {report.OfficialOnly.Syncs:N0} (official only)");
        Console.WriteLine($"  FindMirror calls:     {w.FindMirrorCalls + report.OfficialOnly.FindMirrorCalls:N0}");
        Console.WriteLine($"  wall time:            {wall:0.0} s (runs: {w.ElapsedSeconds:0.0} s and {report.OfficialOnly.ElapsedSeconds:0.0} s side by side), target < 60 s: {(wall < 60 ? "met" : "missed")}");
        Console.WriteLine($"  CPU time:             {cpuSeconds:0.0} s ({cpuSeconds / Math.Max(0.001, wall):0.00} cores busy on average)");
        Console.WriteLine($"  served by volunteers: {w.VolunteerServedShare:P1}; official peak cut {report.OfficialPeakCut:0.##}x; median {w.DistanceMedianKm:0} km vs {report.OfficialOnly.DistanceMedianKm:0} km");
        return 0;
    }
}
