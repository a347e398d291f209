using System.Net;

namespace AdHocMirror.GeoIP;

/// <summary>A first-level or second-level subdivision (state, region, county) of a country.</summary>
public readonly record struct Subdivision(string? IsoCode, string? Name);

/// <summary>
/// What a City database says about an address, as the matcher needs it. Built without dictionaries
/// or per-lookup allocations (strings come from a per-database cache).
/// </summary>
public readonly record struct CityLocation
{
    /// <summary>The address that was looked up (IPv4-mapped IPv6 addresses are looked up as IPv4).</summary>
    public IPAddress Address { get; init; }

    /// <summary>Prefix length of the matched network, in the address family of <see cref="Address"/>.</summary>
    public int PrefixLength { get; init; }

    public bool HasCoordinates { get; init; }

    public double Latitude { get; init; }

    public double Longitude { get; init; }

    /// <summary>Kilometres around the coordinates in which the address is likely to be; 0 when unknown.</summary>
    public int AccuracyRadiusKm { get; init; }

    public string? ContinentCode { get; init; }

    public string? CountryIsoCode { get; init; }

    public string? CityName { get; init; }

    public string? TimeZone { get; init; }

    /// <summary>How many of <see cref="FirstSubdivision"/> and <see cref="SecondSubdivision"/> are set (MaxMind uses at most two).</summary>
    public int SubdivisionCount { get; init; }

    /// <summary>The largest subdivision (e.g. England), or default.</summary>
    public Subdivision FirstSubdivision { get; init; }

    /// <summary>The smaller subdivision inside the first (e.g. West Berkshire), or default.</summary>
    public Subdivision SecondSubdivision { get; init; }

    /// <summary>The most specific subdivision there is, or default.</summary>
    public Subdivision MostSpecificSubdivision => SubdivisionCount >= 2 ? SecondSubdivision : FirstSubdivision;

    /// <summary>The matched network (allocates; for logs and diagnostics).</summary>
    public IPNetwork Network => GeoDatabase.NetworkOf(Address, PrefixLength);
}
