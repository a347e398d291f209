using AdHocMirror.Coordinator.Hosting;
using AdHocMirror.Simulation.Engine;
using AdHocMirror.Simulation.World;

namespace AdHocMirror.Simulation.Tests.Engine;

/// <summary>Runs small enough for a test: a few thousand clients over half a day.</summary>
internal static class Small
{
    public static SimulationOptions Options(Action<SimulationOptions>? configure = null)
    {
        var coordinator = new CoordinatorOptions();
        coordinator.Matching.Official = OfficialRotation.Build();
        var options = new SimulationOptions
        {
            Coordinator = coordinator,
            Clients = 3000,
            Duration = TimeSpan.FromHours(12),
            Warmup = TimeSpan.FromHours(2),
            Volunteers = 0.05,
        };
        configure?.Invoke(options);
        return options;
    }
}
