using AdHocMirror.Coordinator.Matching;

namespace AdHocMirror.Simulation.World;

/// <summary>
/// An official rsync rotation shaped like Gentoo's: 57 mirrors, 30 in Europe, 11 in North America, 11 in Asia,
/// 3 in Australia and 2 in Africa, placed in their regions' large hosting cities (not Gentoo's actual hosts).
/// Used when the configuration file names no official mirrors of its own.
/// </summary>
public static class OfficialRotation
{
    private static readonly (string Region, string City, double Lat, double Lon)[] Mirrors =
    [
        ("eu", "Frankfurt", 50.11, 8.68), ("eu", "Berlin", 52.52, 13.40), ("eu", "Munich", 48.14, 11.58), ("eu", "Nuremberg", 49.45, 11.08),
        ("eu", "Hamburg", 53.55, 9.99), ("eu", "Karlsruhe", 49.01, 8.40), ("eu", "Dresden", 51.05, 13.74), ("eu", "Aachen", 50.78, 6.08),
        ("eu", "Amsterdam", 52.37, 4.90), ("eu", "Rotterdam", 51.92, 4.48), ("eu", "Eindhoven", 51.44, 5.47),
        ("eu", "London", 51.51, -0.13), ("eu", "Manchester", 53.48, -2.24), ("eu", "Paris", 48.86, 2.35), ("eu", "Lyon", 45.76, 4.84),
        ("eu", "Stockholm", 59.33, 18.07), ("eu", "Oslo", 59.91, 10.75), ("eu", "Helsinki", 60.17, 24.94), ("eu", "Copenhagen", 55.68, 12.57),
        ("eu", "Warsaw", 52.23, 21.01), ("eu", "Poznan", 52.41, 16.93), ("eu", "Prague", 50.08, 14.44), ("eu", "Brno", 49.20, 16.61),
        ("eu", "Vienna", 48.21, 16.37), ("eu", "Zurich", 47.38, 8.54), ("eu", "Milan", 45.46, 9.19), ("eu", "Madrid", 40.42, -3.70),
        ("eu", "Lisbon", 38.72, -9.14), ("eu", "Thessaloniki", 40.64, 22.94), ("eu", "Bucharest", 44.43, 26.10),
        ("na", "Ashburn", 39.04, -77.49), ("na", "New York", 40.71, -74.01), ("na", "Chicago", 41.88, -87.63), ("na", "Dallas", 32.78, -96.80),
        ("na", "Atlanta", 33.75, -84.39), ("na", "San Jose", 37.34, -121.89), ("na", "Seattle", 47.61, -122.33), ("na", "Denver", 39.74, -104.99),
        ("na", "Los Angeles", 34.05, -118.24), ("na", "Toronto", 43.65, -79.38), ("na", "Vancouver", 49.28, -123.12),
        ("asia", "Tokyo", 35.68, 139.69), ("asia", "Osaka", 34.69, 135.50), ("asia", "Tsukuba", 36.08, 140.11), ("asia", "Beijing", 39.90, 116.40),
        ("asia", "Hefei", 31.82, 117.23), ("asia", "Taipei", 25.03, 121.57), ("asia", "Hsinchu", 24.80, 120.97), ("asia", "Seoul", 37.57, 126.98),
        ("asia", "Singapore", 1.35, 103.82), ("asia", "Hong Kong", 22.32, 114.17), ("asia", "Bangkok", 13.76, 100.50),
        ("au", "Sydney", -33.87, 151.21), ("au", "Melbourne", -37.81, 144.96), ("au", "Brisbane", -27.47, 153.03),
        ("af", "Johannesburg", -26.20, 28.05), ("af", "Cape Town", -33.92, 18.42),
    ];

    public static int Count => Mirrors.Length;

    /// <summary>The rotation as the coordinator's <c>[official]</c> list would hold it.</summary>
    public static List<OfficialMirrorOptions> Build()
    {
        var perRegion = new Dictionary<string, int>(StringComparer.Ordinal);
        var list = new List<OfficialMirrorOptions>(Mirrors.Length);
        foreach (var (region, city, lat, lon) in Mirrors)
        {
            var n = perRegion[region] = perRegion.GetValueOrDefault(region) + 1;
            var name = $"rsync{n}.{region}";
            list.Add(new OfficialMirrorOptions
            {
                Name = $"{name} ({city})",
                Uri = $"rsync://{name}.official.invalid/gentoo-portage",
                Protocol = Contracts.V1.Protocol.Rsync,
                Latitude = lat,
                Longitude = lon,
            });
        }

        return list;
    }
}
