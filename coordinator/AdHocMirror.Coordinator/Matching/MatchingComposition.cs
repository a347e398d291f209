using AdHocMirror.Coordinator.Geo;
using AdHocMirror.Coordinator.Hosting;
using AdHocMirror.Coordinator.Mirrors;
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
        services.AddSingleton(sp => new Locator(overrides, OpenDatabase(options, sp)));
        services.AddSingleton(sp => locator ?? sp.GetRequiredService<Locator>());
        services.AddSingleton(sp => new MirrorIndex(sp.GetRequiredService<MirrorDirectory>(), sp.GetService<ICapacityShare>()));
        services.AddSingleton<LeaseBook>();
        services.AddSingleton<SyncReports>();
        services.AddSingleton<ClientTags>();
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
