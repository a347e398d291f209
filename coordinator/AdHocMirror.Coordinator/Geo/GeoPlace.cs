namespace AdHocMirror.Coordinator.Geo;

/// <summary>A located point and a coarse name for people ("Berlin, DE"); never an address.</summary>
/// <remarks><see cref="Country"/> (ISO 3166-1 alpha-2) and <see cref="Continent"/> (AF, AN, AS, EU, NA, OC, SA) are null when unknown.</remarks>
public readonly record struct GeoPlace(double Latitude, double Longitude, string Place)
{
    public string? Country { get; init; }

    public string? Continent { get; init; }

    public double DistanceKmTo(GeoPlace other) => GreatCircle.DistanceKm(Latitude, Longitude, other.Latitude, other.Longitude);

    public Contracts.V1.GeoPoint ToContract() => new() { Latitude = Latitude, Longitude = Longitude };

    /// <summary>This place with its country (and the continent that country is on, unless already known).</summary>
    public GeoPlace InCountry(string? country, string? continent = null)
    {
        var code = country is { Length: 2 } && char.IsAsciiLetter(country[0]) && char.IsAsciiLetter(country[1]) ? country.ToUpperInvariant() : null;
        return this with { Country = code, Continent = continent ?? Continents.Of(code) };
    }

    /// <summary>The country a place name ends with, "Berlin, DE" → DE; null without one.</summary>
    public static string? CountryInName(string place)
    {
        var comma = place.LastIndexOf(',');
        var tail = comma < 0 ? place.Trim() : place[(comma + 1)..].Trim();
        return tail.Length == 2 && char.IsAsciiLetterUpper(tail[0]) && char.IsAsciiLetterUpper(tail[1]) ? tail : null;
    }

    /// <summary>Coordinates parsed from "LAT,LON" (decimal degrees).</summary>
    public static bool TryParseCoordinates(string text, out double latitude, out double longitude)
    {
        latitude = longitude = 0;
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        return parts.Length == 2
            && double.TryParse(parts[0], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out latitude)
            && double.TryParse(parts[1], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out longitude)
            && IsValid(latitude, longitude);
    }

    public static bool IsValid(double latitude, double longitude) =>
        double.IsFinite(latitude) && double.IsFinite(longitude) && latitude is >= -90 and <= 90 && longitude is >= -180 and <= 180;
}
