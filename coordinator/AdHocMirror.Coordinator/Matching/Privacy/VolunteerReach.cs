using AdHocMirror.Contracts.V1;
using AdHocMirror.Coordinator.Geo;

namespace AdHocMirror.Coordinator.Matching.Privacy;

/// <summary>A client's country and continent as two-letter codes packed in 16 bits each; 0 = unknown.</summary>
internal readonly record struct ClientRegion(ushort Country, ushort Continent)
{
    public static ClientRegion Of(GeoPlace? place) => place is { } p ? new(Code(p.Country), Code(p.Continent)) : default;

    public static ushort Code(string? letters) =>
        letters is { Length: 2 } t && char.IsAsciiLetter(t[0]) && char.IsAsciiLetter(t[1])
            ? (ushort)((char.ToUpperInvariant(t[0]) << 8) | char.ToUpperInvariant(t[1]))
            : (ushort)0;
}

internal enum ReachKind : byte
{
    Anywhere,
    Continent,
    Country,
    Radius,
}

/// <summary>
/// Which clients a volunteer is offered to (its <c>serve_to</c>), in the form a search checks per
/// mirror without a lookup: the mirror's own region code, or its radius as a squared chord to
/// compare with the one the search has already computed. A client whose country (continent) is
/// unknown is outside a country (continent) reach; a mirror the coordinator cannot place is in no
/// country and has no radius, so a limited reach then admits nobody.
/// </summary>
internal readonly record struct VolunteerReach(ReachKind Kind, ushort Region, double MaxSquaredChord)
{
    public static readonly VolunteerReach Anywhere = new(ReachKind.Anywhere, 0, double.PositiveInfinity);

    public bool IsLimited => Kind != ReachKind.Anywhere;

    public static VolunteerReach Of(ServeTo? serveTo, string? country, string? continent) => serveTo?.Reach switch
    {
        ServeTo.Types.Reach.Country => new(ReachKind.Country, ClientRegion.Code(country), 0),
        ServeTo.Types.Reach.Continent => new(ReachKind.Continent, ClientRegion.Code(continent), 0),
        ServeTo.Types.Reach.Radius => new(ReachKind.Radius, 0, SquaredChord(serveTo.RadiusKm)),
        _ => Anywhere,
    };

    /// <param name="squaredChord">Between client and mirror; NaN when either has no place.</param>
    public bool Admits(ClientRegion client, double squaredChord) => Kind switch
    {
        ReachKind.Anywhere => true,
        ReachKind.Country => Region != 0 && Region == client.Country,
        ReachKind.Continent => Region != 0 && Region == client.Continent,
        _ => squaredChord <= MaxSquaredChord,
    };

    private static double SquaredChord(double km)
    {
        var chord = 2 * Math.Sin(Math.Min(km, Math.PI * GreatCircle.EarthRadiusKm) / (2 * GreatCircle.EarthRadiusKm));
        return chord * chord;
    }
}
