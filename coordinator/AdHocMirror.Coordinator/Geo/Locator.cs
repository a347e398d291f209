using System.Net;
using AdHocMirror.Contracts.V1;
using AdHocMirror.Coordinator.Mirrors;
using AdHocMirror.GeoIP;
using AdHocMirror.GeoIP.Reloading;

namespace AdHocMirror.Coordinator.Geo;

/// <summary>
/// Places addresses: configured overrides first, then the MaxMind City database (when one is
/// configured), and for clients their own hint last. The address is used for the lookup only.
/// </summary>
public sealed class Locator(LocationOverrides overrides, CityDatabaseSource? database) : IMirrorLocator
{
    /// <summary>Whether a GeoIP database is configured and in service.</summary>
    public bool HasDatabase => database?.Current is not null;

    public MirrorLocation? Locate(IPAddress address) =>
        TryLocateAddress(address, out var place, out _) ? new MirrorLocation(place.ToContract(), place.Place) : null;

    /// <summary>Where a client is, and how that was found ("override", "geoip", "hint", "none").</summary>
    public (GeoPlace? Place, string Source) LocateClient(IPAddress? address, LocationHint? hint)
    {
        if (address is not null && TryLocateAddress(address, out var place, out var source))
        {
            return (place, source);
        }

        if (hint is not null)
        {
            if (hint.Point is { } point && GeoPlace.IsValid(point.Latitude, point.Longitude) && !(point.Latitude == 0 && point.Longitude == 0))
            {
                return (new GeoPlace(point.Latitude, point.Longitude, hint.CountryCode), "hint");
            }

            if (CountryCentroids.TryFind(hint.CountryCode, out var centre))
            {
                return (centre, "hint");
            }
        }

        return (null, "none");
    }

    private bool TryLocateAddress(IPAddress address, out GeoPlace place, out string source)
    {
        if (overrides.TryLocate(address, out place))
        {
            source = "override";
            return true;
        }

        if (database is not null && database.TryLookupCity(address, out var city) && city.HasCoordinates)
        {
            place = new GeoPlace(city.Latitude, city.Longitude, Describe(city));
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
