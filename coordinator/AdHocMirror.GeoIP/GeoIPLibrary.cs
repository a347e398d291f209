namespace AdHocMirror.GeoIP;

/// <summary>Marker for the MaxMind DB reader library.</summary>
internal static class GeoIPLibrary;
