using System.Globalization;
using System.Net;
using AdHocMirror.Testing;

namespace AdHocMirror.GeoIP.Tests;

/// <summary>Every network of MaxMind's own test databases gives the answer mmdblookup gives.</summary>
public sealed class ConformanceTests
{
    [ConformanceTheory]
    [InlineData("GeoIP2-City-Test")]
    [InlineData("GeoLite2-City-Test")]
    public void Every_listed_network_gives_the_listed_answer(string name)
    {
        var folder = Path.Combine(Conformance.Directory!, "maxmind");
        using var database = CityDatabase.Open(Path.Combine(folder, name + ".mmdb"));
        database.Verify();
        Assert.Contains("City", database.DatabaseType, StringComparison.Ordinal);
        var lines = File.ReadAllLines(Path.Combine(folder, name + ".networks.tsv"));
        var columns = lines[0].Split('\t').Select((column, index) => (column, index)).ToDictionary(x => x.column, x => x.index);
        var failures = new List<string>();
        var rows = 0;
        foreach (var line in lines.Skip(1).Where(l => l.Length > 0))
        {
            rows++;
            var cells = line.Split('\t');
            string Cell(string column) => columns.TryGetValue(column, out var i) && i < cells.Length ? cells[i] : string.Empty;

            // Subdivisions and time zone are in the fixture too; matching does not use them, so they are not decoded.
            var network = IPNetwork.Parse(Cell("network"));
            var address = network.BaseAddress;
            if (!database.TryLookupCity(address, out var found))
            {
                failures.Add($"{network}: no record");
                continue;
            }

            var expected = new[]
            {
                ("prefix", network.PrefixLength.ToString(CultureInfo.InvariantCulture), found.PrefixLength.ToString(CultureInfo.InvariantCulture)),
                ("continent", Cell("continent"), found.ContinentCode ?? string.Empty),
                ("country", Cell("country"), found.CountryIsoCode ?? string.Empty),
                ("city", Cell("city"), found.CityName ?? string.Empty),
                ("accuracy_radius", Cell("accuracy_radius"), found.AccuracyRadiusKm == 0 ? string.Empty : found.AccuracyRadiusKm.ToString(CultureInfo.InvariantCulture)),
            };

            foreach (var (column, want, got) in expected)
            {
                if (want != got)
                {
                    failures.Add($"{network} {column}: expected '{want}', got '{got}'");
                }
            }

            // An IPv4 network stored under ::/96 answers IPv4 lookups too, with the IPv4 prefix length.
            var bytes = address.GetAddressBytes();
            if (bytes.Length == 16 && network.PrefixLength >= 96 && bytes.AsSpan(0, 12).IndexOfAnyExcept((byte)0) < 0)
            {
                var ipv4 = new IPAddress(bytes.AsSpan(12));
                if (!database.TryLookupCity(ipv4, out var viaIpv4) || viaIpv4.PrefixLength != network.PrefixLength - 96 || viaIpv4.CityName != found.CityName
                    || viaIpv4.Latitude != found.Latitude || viaIpv4.CountryIsoCode != found.CountryIsoCode)
                {
                    failures.Add($"{ipv4}: answers differently from {address} (prefix {viaIpv4.PrefixLength}, city '{viaIpv4.CityName}')");
                }
            }

            foreach (var (column, got) in new[] { ("latitude", found.Latitude), ("longitude", found.Longitude) })
            {
                var want = Cell(column);
                if (want.Length == 0 ? found.HasCoordinates : !found.HasCoordinates || Math.Abs(double.Parse(want, CultureInfo.InvariantCulture) - got) > 1e-9)
                {
                    failures.Add($"{network} {column}: expected '{want}', got '{(found.HasCoordinates ? got : "none")}'");
                }
            }
        }

        Assert.True(rows > 200, $"only {rows} rows in the fixture");
        Assert.True(failures.Count == 0, $"{failures.Count} mismatches:\n" + string.Join('\n', failures.Take(40)));
    }
}
