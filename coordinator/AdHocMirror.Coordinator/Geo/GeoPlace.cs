namespace AdHocMirror.Coordinator.Geo;

/// <summary>A located point and a coarse name for people ("Berlin, DE"); never an address.</summary>
public readonly record struct GeoPlace(double Latitude, double Longitude, string Place)
{
    public double DistanceKmTo(GeoPlace other) => GreatCircle.DistanceKm(Latitude, Longitude, other.Latitude, other.Longitude);

    public Contracts.V1.GeoPoint ToContract() => new() { Latitude = Latitude, Longitude = Longitude };

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
