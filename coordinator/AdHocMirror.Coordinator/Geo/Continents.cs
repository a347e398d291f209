using System.Collections.Frozen;

namespace AdHocMirror.Coordinator.Geo;

/// <summary>
/// The continent of a country (MaxMind's codes: AF, AN, AS, EU, NA, OC, SA), for places that come
/// with a country but no continent: overrides and country hints. GeoIP names the continent itself.
/// </summary>
public static class Continents
{
    private const string Table = """
        AF: AO BF BI BJ BW CD CF CG CI CM CV DJ DZ EG EH ER ET GA GH GM GN GQ GW KE KM LR LS LY MA MG ML MR MU MW MZ NA NE NG RE RW SC SD SH SL SN SO SS ST SZ TD TG TN TZ UG YT ZA ZM ZW;
        AN: AQ BV GS HM TF;
        AS: AE AF AM AZ BD BH BN BT CN CY GE HK ID IL IN IO IQ IR JO JP KG KH KP KR KW KZ LA LB LK MM MN MO MV MY NP OM PH PK PS QA SA SG SY TH TJ TL TM TR TW UZ VN YE;
        EU: AD AL AT AX BA BE BG BY CH CZ DE DK EE ES FI FO FR GB GG GI GR HR HU IE IM IS IT JE LI LT LU LV MC MD ME MK MT NL NO PL PT RO RS RU SE SI SJ SK SM UA VA XK;
        NA: AG AI AW BB BL BM BQ BS BZ CA CR CU CW DM DO GD GL GP GT HN HT JM KN KY LC MF MQ MS MX NI PA PM PR SV SX TC TT US VC VG VI;
        OC: AS AU CK FJ FM GU KI MH MP NC NF NR NU NZ PF PG PN PW SB TK TO TV UM VU WF WS;
        SA: AR BO BR CL CO EC FK GF GY PE PY SR UY VE
        """;

    private static readonly FrozenDictionary<string, string> ByCountry = Table
        .Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        .SelectMany(line =>
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var continent = line[..colon];
            return line[(colon + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(country => (country, continent));
        })
        .ToFrozenDictionary(p => p.country, p => p.continent, StringComparer.OrdinalIgnoreCase);

    /// <returns>The continent code, or null for an unknown (or null) country.</returns>
    public static string? Of(string? country) => country is not null && ByCountry.TryGetValue(country, out var continent) ? continent : null;
}
