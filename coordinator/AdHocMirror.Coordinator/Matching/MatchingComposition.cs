using AdHocMirror.Coordinator.Geo;
using AdHocMirror.Coordinator.Hosting;
using AdHocMirror.Coordinator.Matching.Privacy;
using AdHocMirror.Coordinator.Mirrors;
using AdHocMirror.Coordinator.Storage;
using AdHocMirror.GeoIP.Format;
using AdHocMirror.GeoIP.Reloading;
using AdHocMirror.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AdHocMirror.Coordinator.Matching;

/// <summary>Registers matching and the geo placement it needs.</summary>
public static class MatchingComposition
{
    /// <param name="locator">A fixed locator (tests); by default overrides then the configured GeoIP database.</param>
    public static IServiceCollection AddMatching(this IServiceCollection services, CoordinatorOptions options, IMirrorLocator? locator)
    {
        var overrides = new LocationOverrides(options.Geo.Overrides);
        services.AddSingleton(options.Matching);
        services.AddSingleton(sp => new Locator(overrides, OpenDatabase(options, sp), options.Geo.HintMaxKm));
        services.AddSingleton(sp => locator ?? sp.GetRequiredService<Locator>());
        services.AddSingleton(sp => new MirrorIndex(sp.GetRequiredService<MirrorDirectory>(), sp.GetService<ICapacityShare>()));
        services.AddSingleton<LeaseBook>();
        services.AddSingleton<SyncReports>();
        services.AddSingleton<ClientTags>();
        services.AddSingleton(options.Privacy);
        // The store shares each window's secret between coordinators when it can; else this process keeps its own.
        services.AddSingleton(sp => sp.GetRequiredService<ICoordinatorStore>() as IRevealSecrets ?? new MemoryRevealSecrets());
        services.AddSingleton<RevealWindows>();
        services.AddSingleton<RevealWindowSync>();
        services.AddSingleton<ClientNetworks>();
        services.AddSingleton<NetworkRecords>();
        // Both take the shared records: the container picks their longest constructor.
        services.AddSingleton<FindMirrorRateLimit>();
        services.AddSingleton<RevealBudget>();
        services.AddSingleton<MatchingPrivacy>();
        services.AddSingleton<CandidatePicker>();
        services.AddSingleton<MirrorMatcher>();
        services.AddSingleton<MatchingService>();
        return services;
    }

    private static CityDatabaseSource? OpenDatabase(CoordinatorOptions options, IServiceProvider services)
    {
        if (string.IsNullOrEmpty(options.GeoIp))
        {
            return null;
        }

        try
        {
            return CityDatabaseSource.Open(
                new CityDatabaseSourceOptions { Path = options.GeoIp },
                services.GetRequiredService<ILogger<CityDatabaseSource>>(),
                services.GetRequiredService<TimeProvider>());
        }
        catch (Exception e) when (e is IOException or InvalidDatabaseException or UnauthorizedAccessException)
        {
            throw new SettingsException($"--geoip {options.GeoIp}: {e.Message}");
        }
    }
}
