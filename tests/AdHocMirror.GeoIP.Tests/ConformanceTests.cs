using System.Globalization;
using System.Net;
using AdHocMirror.Testing;

namespace AdHocMirror.GeoIP.Tests;

/// <summary>Every network of MaxMind's own test databases gives the answer mmdblookup gives.</summary>
public sealed class ConformanceTests
{
    [ConformanceTheory]
    [InlineData("GeoIP2-City-Test", CityReader.Managed)]
    [InlineData("GeoLite2-City-Test", CityReader.Managed)]
    [InlineData("GeoIP2-City-Test", CityReader.MaxMindDb)]
    [InlineData("GeoLite2-City-Test", CityReader.MaxMindDb)]
    public void Every_listed_network_gives_the_listed_answer(string name, CityReader reader)
    {
        var folder = Path.Combine(Conformance.Directory!, "maxmind");
        var file = Path.Combine(folder, name + ".mmdb");
        using ICityDatabase database = reader == CityReader.MaxMindDb ? Library.MaxMindCityDatabase.Open(file) : GeoDatabase.Open(file);
        database.Verify();
        var lines = File.ReadAllLines(Path.Combine(folder, name + ".networks.tsv"));
        var columns = lines[0].Split('\t').Select((column, index) => (column, index)).ToDictionary(x => x.column, x => x.index);
        var failures = new List<string>();
        var rows = 0;
        foreach (var line in lines.Skip(1).Where(l => l.Length > 0))
        {
            rows++;
            var cells = line.Split('\t');
            string Cell(string column) => columns.TryGetValue(column, out var i) && i < cells.Length ? cells[i] : string.Empty;

            var network = IPNetwork.Parse(Cell("network"));
            var address = network.BaseAddress;
            if (!database.TryLookupCity(address, out var found))
            {
                failures.Add($"{network}: no record");
                continue;
            }

            var subdivisions = string.Join('/', new[] { found.FirstSubdivision, found.SecondSubdivision }
                .Take(found.SubdivisionCount).Select(s => s.IsoCode));
            var expected = new[]
            {
                ("prefix", network.PrefixLength.ToString(CultureInfo.InvariantCulture), found.PrefixLength.ToString(CultureInfo.InvariantCulture)),
                ("continent", Cell("continent"), found.ContinentCode ?? string.Empty),
                ("country", Cell("country"), found.CountryIsoCode ?? string.Empty),
                ("city", Cell("city"), found.CityName ?? string.Empty),
                ("accuracy_radius", Cell("accuracy_radius"), found.AccuracyRadiusKm == 0 ? string.Empty : found.AccuracyRadiusKm.ToString(CultureInfo.InvariantCulture)),
            };
            if (reader == CityReader.Managed)
            {
                // The MaxMind.Db path decodes only what matching uses.
                expected = [.. expected, ("subdivisions", Cell("subdivisions"), subdivisions), ("time_zone", Cell("time_zone"), found.TimeZone ?? string.Empty)];
            }

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

    [ConformanceTheory]
    [InlineData("GeoIP2-City-Test")]
    [InlineData("GeoLite2-City-Test")]
    public void The_whole_file_verifies_and_the_generic_decoder_agrees_with_the_typed_path(string name)
    {
        var folder = Path.Combine(Conformance.Directory!, "maxmind");
        using var database = GeoDatabase.Open(Path.Combine(folder, name + ".mmdb"));
        database.Verify();
        Assert.Equal(2, database.Metadata.BinaryFormatMajorVersion);
        Assert.Contains("City", database.Metadata.DatabaseType, StringComparison.Ordinal);

        foreach (var line in File.ReadAllLines(Path.Combine(folder, name + ".networks.tsv")).Skip(1))
        {
            var network = IPNetwork.Parse(line.Split('\t')[0]);
            var record = database.Lookup(network.BaseAddress, out var prefix);
            Assert.True(database.TryLookupCity(network.BaseAddress, out var city));
            Assert.NotNull(record);
            Assert.Equal(network.PrefixLength, prefix);
            Assert.True(database.TryFindNetwork(network.BaseAddress, out var found));
            Assert.Equal(network.PrefixLength, found);
            Assert.Equal(city.CityName, record.Path("city", "names", "en")?.AsString());
            Assert.Equal(city.CountryIsoCode, record.Path("country", "iso_code")?.AsString());
            Assert.Equal(city.TimeZone, record.Path("location", "time_zone")?.AsString());
            Assert.Equal(network, city.Network);

            // An IPv4 network stored under ::/96 answers IPv4 lookups too, with the IPv4 prefix length.
            var bytes = network.BaseAddress.GetAddressBytes();
            if (bytes.Length == 16 && network.PrefixLength >= 96 && bytes.AsSpan(0, 12).IndexOfAnyExcept((byte)0) < 0)
            {
                var ipv4 = new IPAddress(bytes.AsSpan(12));
                Assert.True(database.TryLookupCity(ipv4, out var viaIpv4), $"{ipv4} has no record");
                Assert.Equal(network.PrefixLength - 96, viaIpv4.PrefixLength);
                Assert.Equal(city.CityName, viaIpv4.CityName);
                Assert.Equal(city.Latitude, viaIpv4.Latitude);
                Assert.Equal(new IPNetwork(ipv4, network.PrefixLength - 96), viaIpv4.Network);
            }
        }
    }
}
