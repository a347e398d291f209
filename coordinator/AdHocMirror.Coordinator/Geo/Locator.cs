using System.Net;
using AdHocMirror.Contracts.V1;
using AdHocMirror.Coordinator.Mirrors;
using AdHocMirror.GeoIP;
using AdHocMirror.GeoIP.Reloading;

namespace AdHocMirror.Coordinator.Geo;

/// <summary>
/// Places addresses: configured overrides first, then the MaxMind City database (when one is
/// configured), and for clients their own hint last. The address is used for the lookup only.
/// A hint cannot move a client the address places: a point hint counts only within
/// <c>hintMaxKm</c> of the address's place (and never changes its country), and is taken as given
/// only when the address locates nowhere.
/// </summary>
public sealed class Locator(LocationOverrides overrides, CityDatabaseSource? database, double hintMaxKm = GeoOptions.DefaultHintMaxKm) : IMirrorLocator
{
    public const string HintIgnored = "-hint-ignored";

    /// <summary>Whether a GeoIP database is configured and in service.</summary>
    public bool HasDatabase => database?.Current is not null;

    public MirrorLocation? Locate(IPAddress address) =>
        TryLocateAddress(address, out var place, out _) ? new MirrorLocation(place.ToContract(), place.Place, place.Country, place.Continent) : null;

    /// <summary>
    /// Where a client is, and how that was found: "override", "geoip", "hint", "none", or
    /// "override-hint-ignored" / "geoip-hint-ignored" when a hint disagreed with the address's place.
    /// </summary>
    public (GeoPlace? Place, string Source) LocateClient(IPAddress? address, LocationHint? hint)
    {
        if (address is not null && TryLocateAddress(address, out var place, out var source))
        {
            return hint is null ? (place, source) : Refine(place, source, hint);
        }

        if (hint is not null)
        {
            if (HintPoint(hint) is { } point)
            {
                return (new GeoPlace(point.Latitude, point.Longitude, hint.CountryCode).InCountry(hint.CountryCode), "hint");
            }

            if (CountryCentroids.TryFind(hint.CountryCode, out var centre))
            {
                return (centre, "hint");
            }
        }

        return (null, "none");
    }

    /// <summary>A hint near the address's place refines the point (its country stays the address's); any other is ignored.</summary>
    private (GeoPlace? Place, string Source) Refine(GeoPlace place, string source, LocationHint hint)
    {
        if (HintPoint(hint) is { } point)
        {
            return GreatCircle.DistanceKm(place.Latitude, place.Longitude, point.Latitude, point.Longitude) <= hintMaxKm
                ? (place with { Latitude = point.Latitude, Longitude = point.Longitude }, "hint")
                : (place, source + HintIgnored);
        }

        return string.IsNullOrEmpty(hint.CountryCode) || string.Equals(hint.CountryCode, place.Country, StringComparison.OrdinalIgnoreCase)
            ? (place, source)
            : (place, source + HintIgnored);
    }

    private static GeoPoint? HintPoint(LocationHint hint) =>
        hint.Point is { } point && GeoPlace.IsValid(point.Latitude, point.Longitude) && !(point.Latitude == 0 && point.Longitude == 0) ? point : null;

    private bool TryLocateAddress(IPAddress address, out GeoPlace place, out string source)
    {
        if (overrides.TryLocate(address, out place))
        {
            source = "override";
            return true;
        }

        if (database is not null && database.TryLookupCity(address, out var city) && city.HasCoordinates)
        {
            place = new GeoPlace(city.Latitude, city.Longitude, Describe(city)).InCountry(city.CountryIsoCode, city.ContinentCode);
            source = "geoip";
            return true;
        }

        source = "none";
        return false;
    }

    private static string Describe(CityLocation city) => (city.CityName, city.CountryIsoCode) switch
    {
        ({ } name, { } country) => $"{name}, {country}",
        (null, { } country) => country,
        ({ } name, null) => name,
        _ => string.Empty,
    };
}
