namespace AdHocMirror.Coordinator.Geo;

/// <summary>Distances on the earth as a sphere, in kilometres.</summary>
public static class GreatCircle
{
    public const double EarthRadiusKm = 6371.0088;
    public const double KmPerDegree = Math.PI * EarthRadiusKm / 180.0;

    public static double DistanceKm(double lat1, double lon1, double lat2, double lon2)
    {
        var dLat = DegreesToRadians(lat2 - lat1);
        var dLon = DegreesToRadians(lon2 - lon1);
        var a = (Math.Sin(dLat / 2) * Math.Sin(dLat / 2))
            + (Math.Cos(DegreesToRadians(lat1)) * Math.Cos(DegreesToRadians(lat2)) * Math.Sin(dLon / 2) * Math.Sin(dLon / 2));
        return 2 * EarthRadiusKm * Math.Asin(Math.Min(1, Math.Sqrt(a)));
    }

    public static double DegreesToRadians(double degrees) => degrees * (Math.PI / 180.0);

    /// <summary>The point as a unit vector: distances to many points then cost a few multiplications each (<see cref="ChordToKm"/>).</summary>
    public static (double X, double Y, double Z) UnitVector(double latitude, double longitude)
    {
        var lat = DegreesToRadians(latitude);
        var lon = DegreesToRadians(longitude);
        var cosLat = Math.Cos(lat);
        return (cosLat * Math.Cos(lon), cosLat * Math.Sin(lon), Math.Sin(lat));
    }

    /// <summary>The great-circle distance between two unit vectors whose difference has squared length <paramref name="squaredChord"/>.</summary>
    public static double ChordToKm(double squaredChord) => 2 * EarthRadiusKm * Math.Asin(Math.Min(1, Math.Sqrt(squaredChord) / 2));
}
