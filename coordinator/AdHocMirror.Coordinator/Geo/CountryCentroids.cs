using System.Collections.Frozen;
using System.Globalization;

namespace AdHocMirror.Coordinator.Geo;

/// <summary>
/// Approximate centres of countries (ISO 3166-1 alpha-2), for a client's country hint when its
/// address locates nowhere. Coarse on purpose: a hint only orders mirrors by region.
/// </summary>
public static class CountryCentroids
{
    // ISO2 lat lon; population-weighted where a geometric centre would be empty land.
    private const string Table = """
        AD 42.5 1.5;AE 24.0 54.0;AF 33.0 65.0;AL 41.0 20.0;AM 40.0 45.0;AO -12.5 18.5;AR -34.0 -64.0;AT 47.3 13.3;
        AU -33.0 147.0;AZ 40.5 47.5;BA 44.0 18.0;BD 24.0 90.0;BE 50.8 4.0;BG 43.0 25.0;BH 26.0 50.5;BO -17.0 -65.0;
        BR -15.0 -47.0;BY 53.0 28.0;CA 45.5 -75.0;CH 47.0 8.0;CL -33.5 -70.7;CN 32.0 113.0;CO 4.6 -74.1;CR 10.0 -84.0;
        CU 22.0 -79.5;CY 35.0 33.0;CZ 49.8 15.5;DE 51.0 10.0;DK 56.0 10.0;DO 19.0 -70.7;DZ 36.0 3.0;EC -1.5 -78.5;
        EE 59.0 26.0;EG 30.0 31.0;ES 40.0 -4.0;ET 9.0 38.7;FI 62.0 26.0;FR 46.5 2.5;GB 52.5 -1.5;GE 42.0 43.5;
        GH 7.0 -1.0;GR 39.0 22.0;GT 14.6 -90.5;HK 22.3 114.2;HN 14.5 -87.0;HR 45.2 15.5;HU 47.0 19.5;ID -6.2 106.8;
        IE 53.3 -8.0;IL 31.5 34.8;IN 22.0 79.0;IQ 33.0 44.0;IR 35.0 51.0;IS 64.1 -21.9;IT 42.8 12.8;JM 18.1 -77.3;
        JO 31.9 35.9;JP 35.7 139.7;KE -1.3 36.8;KG 42.9 74.6;KH 11.6 104.9;KR 37.5 127.0;KW 29.4 47.9;KZ 48.0 68.0;
        LB 33.9 35.5;LI 47.2 9.5;LK 7.0 80.0;LT 55.0 24.0;LU 49.8 6.1;LV 57.0 25.0;MA 33.0 -7.0;MD 47.0 28.8;
        ME 42.5 19.3;MK 41.6 21.7;MN 47.9 106.9;MT 35.9 14.4;MX 19.4 -99.1;MY 3.1 101.7;NG 7.5 5.5;NI 12.9 -85.2;
        NL 52.2 5.3;NO 60.5 9.0;NP 27.7 85.3;NZ -41.0 174.0;OM 23.6 58.4;PA 9.0 -79.5;PE -12.0 -77.0;PH 14.6 121.0;
        PK 30.0 70.0;PL 52.0 19.5;PR 18.2 -66.5;PT 39.5 -8.0;PY -25.3 -57.6;QA 25.3 51.2;RO 45.9 24.9;RS 44.0 20.9;
        RU 55.8 37.6;SA 24.7 46.7;SE 60.0 15.0;SG 1.35 103.8;SI 46.1 14.8;SK 48.7 19.7;SN 14.7 -17.4;SV 13.7 -89.2;
        TH 13.8 100.5;TN 36.0 10.0;TR 39.0 35.0;TW 23.7 121.0;TZ -6.8 37.7;UA 49.0 31.0;UG 0.3 32.6;US 39.8 -98.6;
        UY -34.9 -56.2;UZ 41.3 69.3;VE 10.5 -66.9;VN 16.0 106.0;ZA -26.2 28.0;ZM -15.4 28.3;ZW -17.8 31.0
        """;

    private static readonly FrozenDictionary<string, (double Lat, double Lon)> Centres = Table
        .Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        .Select(entry => entry.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        .ToFrozenDictionary(
            parts => parts[0],
            parts => (double.Parse(parts[1], CultureInfo.InvariantCulture), double.Parse(parts[2], CultureInfo.InvariantCulture)),
            StringComparer.OrdinalIgnoreCase);

    public static bool TryFind(string? countryCode, out GeoPlace place)
    {
        if (countryCode is { Length: 2 } && Centres.TryGetValue(countryCode, out var centre))
        {
            place = new GeoPlace(centre.Lat, centre.Lon, countryCode.ToUpperInvariant()).InCountry(countryCode);
            return true;
        }

        place = default;
        return false;
    }
}
