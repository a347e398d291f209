namespace AdHocMirror.Simulation.World;

/// <summary>
/// Where Gentoo users are, for placing simulated clients (and so volunteers, who are clients too).
/// </summary>
/// <remarks>
/// Source: internet users per country, in millions, rounded from DataReportal's "Digital 2023" country reports
/// (which compile ITU, GSMA Intelligence and national statistics), placed at each country's largest cities.
/// Gentoo publishes no user census, so each continent is then weighted by a Gentoo-shaped factor — our assumption,
/// chosen to follow where Gentoo's official rsync mirrors are (30 of 57 in Europe): Europe 4, North America and
/// Oceania 2, Latin America 0.6, Asia and Africa 0.3. The result is about 57 % Europe, 17 % North America,
/// 18 % Asia, 4 % Latin America, 2 % Africa, 1.3 % Oceania.
/// </remarks>
public static class ClientPlaces
{
    public sealed record City(string Name, double Latitude, double Longitude, double Weight);

    /// <summary>Degrees of Gaussian scatter around a city.</summary>
    public const double ScatterDegrees = 0.8;

    private static readonly (string Continent, double Factor)[] Factors =
    [
        ("EU", 4), ("NA", 2), ("OC", 2), ("LA", 0.6), ("AS", 0.3), ("AF", 0.3),
    ];

    // Country, continent, internet users (millions), then city name, latitude, longitude, share of the country's users.
    private static readonly (string Country, string Continent, double Users, (string City, double Lat, double Lon, double Share)[] Cities)[] Countries =
    [
        ("DE", "EU", 78, [("Berlin", 52.52, 13.40, 0.3), ("Frankfurt", 50.11, 8.68, 0.35), ("Munich", 48.14, 11.58, 0.35)]),
        ("GB", "EU", 66, [("London", 51.51, -0.13, 0.5), ("Manchester", 53.48, -2.24, 0.3), ("Glasgow", 55.86, -4.25, 0.2)]),
        ("FR", "EU", 60, [("Paris", 48.86, 2.35, 0.5), ("Lyon", 45.76, 4.84, 0.25), ("Toulouse", 43.60, 1.44, 0.25)]),
        ("IT", "EU", 51, [("Milan", 45.46, 9.19, 0.5), ("Rome", 41.90, 12.50, 0.5)]),
        ("ES", "EU", 44, [("Madrid", 40.42, -3.70, 0.6), ("Barcelona", 41.39, 2.17, 0.4)]),
        ("PL", "EU", 33, [("Warsaw", 52.23, 21.01, 0.6), ("Krakow", 50.06, 19.94, 0.4)]),
        ("UA", "EU", 30, [("Kyiv", 50.45, 30.52, 1)]),
        ("RU", "EU", 130, [("Moscow", 55.76, 37.62, 0.5), ("Saint Petersburg", 59.93, 30.34, 0.2), ("Yekaterinburg", 56.84, 60.60, 0.15), ("Novosibirsk", 55.03, 82.92, 0.15)]),
        ("NL", "EU", 17, [("Amsterdam", 52.37, 4.90, 1)]),
        ("BE", "EU", 10.5, [("Brussels", 50.85, 4.35, 1)]),
        ("SE", "EU", 10, [("Stockholm", 59.33, 18.07, 1)]),
        ("CZ", "EU", 9.5, [("Prague", 50.08, 14.44, 1)]),
        ("AT", "EU", 8.3, [("Vienna", 48.21, 16.37, 1)]),
        ("CH", "EU", 8.5, [("Zurich", 47.38, 8.54, 1)]),
        ("PT", "EU", 9, [("Lisbon", 38.72, -9.14, 1)]),
        ("GR", "EU", 8.5, [("Athens", 37.98, 23.73, 1)]),
        ("RO", "EU", 16, [("Bucharest", 44.43, 26.10, 1)]),
        ("HU", "EU", 8.5, [("Budapest", 47.50, 19.04, 1)]),
        ("DK", "EU", 5.8, [("Copenhagen", 55.68, 12.57, 1)]),
        ("NO", "EU", 5.4, [("Oslo", 59.91, 10.75, 1)]),
        ("FI", "EU", 5.3, [("Helsinki", 60.17, 24.94, 1)]),
        ("IE", "EU", 4.7, [("Dublin", 53.35, -6.26, 1)]),
        ("BG", "EU", 5.3, [("Sofia", 42.70, 23.32, 1)]),
        ("RS", "EU", 6, [("Belgrade", 44.79, 20.45, 1)]),
        ("SK", "EU", 4.9, [("Bratislava", 48.15, 17.11, 1)]),
        ("HR", "EU", 3.3, [("Zagreb", 45.81, 15.98, 1)]),
        ("LT", "EU", 2.5, [("Vilnius", 54.69, 25.28, 1)]),
        ("BY", "EU", 8.5, [("Minsk", 53.90, 27.57, 1)]),
        ("US", "NA", 311, [("New York", 40.71, -74.01, 0.2), ("Chicago", 41.88, -87.63, 0.15), ("Los Angeles", 34.05, -118.24, 0.15), ("San Francisco", 37.77, -122.42, 0.1), ("Dallas", 32.78, -96.80, 0.12), ("Atlanta", 33.75, -84.39, 0.12), ("Seattle", 47.61, -122.33, 0.08), ("Denver", 39.74, -104.99, 0.08)]),
        ("CA", "NA", 36, [("Toronto", 43.65, -79.38, 0.5), ("Montreal", 45.50, -73.57, 0.25), ("Vancouver", 49.28, -123.12, 0.25)]),
        ("MX", "LA", 100, [("Mexico City", 19.43, -99.13, 1)]),
        ("BR", "LA", 181, [("Sao Paulo", -23.55, -46.63, 0.5), ("Rio de Janeiro", -22.91, -43.17, 0.3), ("Brasilia", -15.79, -47.88, 0.2)]),
        ("AR", "LA", 40, [("Buenos Aires", -34.60, -58.38, 1)]),
        ("CO", "LA", 38, [("Bogota", 4.71, -74.07, 1)]),
        ("CL", "LA", 17, [("Santiago", -33.45, -70.67, 1)]),
        ("PE", "LA", 24, [("Lima", -12.05, -77.04, 1)]),
        ("CN", "AS", 1050, [("Beijing", 39.90, 116.40, 0.3), ("Shanghai", 31.23, 121.47, 0.4), ("Shenzhen", 22.54, 114.06, 0.3)]),
        ("IN", "AS", 700, [("Mumbai", 19.08, 72.88, 0.35), ("Delhi", 28.61, 77.21, 0.35), ("Bangalore", 12.97, 77.59, 0.3)]),
        ("ID", "AS", 212, [("Jakarta", -6.21, 106.85, 1)]),
        ("JP", "AS", 102, [("Tokyo", 35.68, 139.69, 0.6), ("Osaka", 34.69, 135.50, 0.4)]),
        ("PH", "AS", 85, [("Manila", 14.60, 120.98, 1)]),
        ("VN", "AS", 78, [("Hanoi", 21.03, 105.85, 0.5), ("Ho Chi Minh City", 10.82, 106.63, 0.5)]),
        ("TR", "AS", 72, [("Istanbul", 41.01, 28.98, 0.6), ("Ankara", 39.93, 32.86, 0.4)]),
        ("IR", "AS", 72, [("Tehran", 35.69, 51.39, 1)]),
        ("TH", "AS", 61, [("Bangkok", 13.76, 100.50, 1)]),
        ("KR", "AS", 50, [("Seoul", 37.57, 126.98, 1)]),
        ("PK", "AS", 87, [("Karachi", 24.86, 67.01, 0.5), ("Lahore", 31.55, 74.34, 0.5)]),
        ("BD", "AS", 66, [("Dhaka", 23.81, 90.41, 1)]),
        ("TW", "AS", 21, [("Taipei", 25.03, 121.57, 1)]),
        ("MY", "AS", 30, [("Kuala Lumpur", 3.14, 101.69, 1)]),
        ("SG", "AS", 5.5, [("Singapore", 1.35, 103.82, 1)]),
        ("IL", "AS", 8, [("Tel Aviv", 32.09, 34.78, 1)]),
        ("SA", "AS", 36, [("Riyadh", 24.71, 46.68, 1)]),
        ("KZ", "AS", 17, [("Almaty", 43.24, 76.89, 1)]),
        ("NG", "AF", 122, [("Lagos", 6.52, 3.38, 1)]),
        ("EG", "AF", 80, [("Cairo", 30.04, 31.24, 1)]),
        ("ZA", "AF", 43, [("Johannesburg", -26.20, 28.05, 0.6), ("Cape Town", -33.92, 18.42, 0.4)]),
        ("KE", "AF", 22, [("Nairobi", -1.29, 36.82, 1)]),
        ("MA", "AF", 32, [("Casablanca", 33.57, -7.59, 1)]),
        ("AU", "OC", 24, [("Sydney", -33.87, 151.21, 0.4), ("Melbourne", -37.81, 144.96, 0.35), ("Brisbane", -27.47, 153.03, 0.15), ("Perth", -31.95, 115.86, 0.1)]),
        ("NZ", "OC", 4.6, [("Auckland", -36.85, 174.76, 1)]),
    ];

    /// <summary>Every city with its weight (users × continent factor × city share).</summary>
    public static IReadOnlyList<City> Cities { get; } = Build();

    private static List<City> Build()
    {
        var factors = Factors.ToDictionary(f => f.Continent, f => f.Factor, StringComparer.Ordinal);
        var cities = new List<City>();
        foreach (var (country, continent, users, places) in Countries)
        {
            foreach (var (name, lat, lon, share) in places)
            {
                cities.Add(new City($"{name}, {country}", lat, lon, users * factors[continent] * share));
            }
        }

        return cities;
    }
}
