using System.Globalization;
using System.Net;
using AdHocMirror.Hosting;

namespace AdHocMirror.Coordinator.Geo;

/// <summary>
/// Configured CIDR → place overrides (labs, universities, LANs, the loopback demo). They take
/// precedence over the GeoIP database; the most specific prefix wins.
/// </summary>
public sealed class LocationOverrides
{
    private readonly (IPNetwork Network, GeoPlace Place)[] _entries;

    public LocationOverrides(IEnumerable<string> specs)
    {
        _entries = specs.Select(Parse).OrderByDescending(e => e.Network.PrefixLength).ToArray();
    }

    public int Count => _entries.Length;

    public bool TryLocate(IPAddress address, out GeoPlace place)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        foreach (var (network, candidate) in _entries)
        {
            if (network.Contains(address))
            {
                place = candidate;
                return true;
            }
        }

        place = default;
        return false;
    }

    /// <summary>Parses <c>CIDR = LAT,LON [Place name]</c>, e.g. <c>127.0.0.2/32 = 52.52,13.40 Berlin, DE</c>.</summary>
    public static (IPNetwork Network, GeoPlace Place) Parse(string spec)
    {
        var equals = spec.IndexOf('=', StringComparison.Ordinal);
        if (equals <= 0)
        {
            throw new SettingsException($"location override '{spec}': expected 'CIDR = LAT,LON [place]'");
        }

        var cidr = spec[..equals].Trim();
        if (!IPNetwork.TryParse(cidr, out var network))
        {
            throw new SettingsException($"location override '{spec}': '{cidr}' is not a CIDR prefix");
        }

        var rest = spec[(equals + 1)..].Trim();
        var space = rest.IndexOf(' ', StringComparison.Ordinal);
        var coordinates = space < 0 ? rest : rest[..space];
        var name = space < 0 ? cidr : rest[(space + 1)..].Trim();
        if (!GeoPlace.TryParseCoordinates(coordinates, out var lat, out var lon))
        {
            throw new SettingsException($"location override '{spec}': '{coordinates}' is not LAT,LON in decimal degrees");
        }

        // A place named "…, DE" is in that country: what a volunteer's country or continent reach needs.
        var place = name.ToString(CultureInfo.InvariantCulture);
        return (network, new GeoPlace(lat, lon, place).InCountry(GeoPlace.CountryInName(place)));
    }
}
