using MaxMind.Db;

namespace AdHocMirror.GeoIP;

/// <summary>
/// The part of a GeoIP2/GeoLite2 City record that matching uses, for MaxMind.Db's <c>Reader.Find&lt;T&gt;</c> (its <c>[Constructor]</c>, formerly <c>[MaxMindDbConstructor]</c>):
/// the decoder builds only these objects and skips every other field (GeoIP2's full <c>CityResponse</c>
/// builds dozens of dictionaries per lookup).
/// </summary>
internal sealed class CityFields
{
    [Constructor]
    public CityFields(
        [MapKey("city")] NamedPlace? city = null,
        [MapKey("continent")] CodedPlace? continent = null,
        [MapKey("country")] CountryPlace? country = null,
        [MapKey("location")] Position? location = null)
    {
        City = city;
        Continent = continent;
        Country = country;
        Location = location;
    }

    public NamedPlace? City { get; }

    public CodedPlace? Continent { get; }

    public CountryPlace? Country { get; }

    public Position? Location { get; }
}

internal sealed class NamedPlace
{
    [Constructor]
    public NamedPlace([MapKey("names")] EnglishName? names = null) => Names = names;

    public EnglishName? Names { get; }
}

internal sealed class EnglishName
{
    [Constructor]
    public EnglishName([MapKey("en")] string? english = null) => English = english;

    public string? English { get; }
}

internal sealed class CodedPlace
{
    [Constructor]
    public CodedPlace([MapKey("code")] string? code = null) => Code = code;

    public string? Code { get; }
}

internal sealed class CountryPlace
{
    [Constructor]
    public CountryPlace([MapKey("iso_code")] string? isoCode = null) => IsoCode = isoCode;

    public string? IsoCode { get; }
}

internal sealed class Position
{
    [Constructor]
    public Position(
        [MapKey("latitude")] double? latitude = null,
        [MapKey("longitude")] double? longitude = null,
        [MapKey("accuracy_radius")] int? accuracyRadius = null)
    {
        Latitude = latitude;
        Longitude = longitude;
        AccuracyRadius = accuracyRadius;
    }

    public double? Latitude { get; }

    public double? Longitude { get; }

    public int? AccuracyRadius { get; }
}
