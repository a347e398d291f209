using System.Globalization;
using System.Net;
using AdHocMirror.Testing;

namespace AdHocMirror.GeoIP.Tests.Format;

/// <summary>
/// Files written by MaxMind's Perl writer, in every record size, IPv4-only and IPv6 with IPv4
/// networks: our answers equal mmdblookup's (libmaxminddb), and the values the script wrote.
/// </summary>
public sealed class WrittenDatabaseTests
{
    private static readonly string[] Ipv4Addresses = ["81.2.69.1", "81.2.69.255", "81.2.70.200", "81.2.71.255", "10.1.2.3", "127.0.0.1", "8.8.8.8", "0.0.0.0", "255.255.255.255"];
    private static readonly string[] Ipv6Addresses = ["2001:db8::1", "2001:db8:ffff::", "::81.2.69.1", "::10.0.0.1", "2001:db9::1", "::", "ffff::1"];

    [WriterTheory]
    [InlineData(4, 24)]
    [InlineData(4, 28)]
    [InlineData(4, 32)]
    [InlineData(6, 24)]
    [InlineData(6, 28)]
    [InlineData(6, 32)]
    public async Task Every_answer_equals_what_mmdblookup_prints(int ipVersion, int recordSize)
    {
        using var dir = new TempDir("ahm-geo");
        var file = dir.Combine("test.mmdb");
        await MaxMindWriter.WriteAsync(file, ipVersion, recordSize);
        using var database = CityDatabase.Open(file);
        Assert.Equal("AHM-Test-City", database.DatabaseType);
        database.Verify();

        var addresses = ipVersion == 6 ? Ipv4Addresses.Concat(Ipv6Addresses) : Ipv4Addresses;
        foreach (var address in addresses)
        {
            var found = database.TryLookupCity(IPAddress.Parse(address), out var ours);
            var whole = await ExternalProcess.RunAsync("mmdblookup", ["--file", file, "--ip", address]);
            if (!found)
            {
                Assert.Contains("Could not find an entry", whole.Stdout + whole.Stderr, StringComparison.Ordinal);
                continue;
            }

            whole.EnsureSuccess($"mmdblookup {address}");
            Assert.Equal(await TheirsAsync(file, address, "city", "names", "en"), ours.CityName is { } c ? $"\"{c}\" <utf8_string>" : null);
            Assert.Equal(await TheirsAsync(file, address, "country", "iso_code"), ours.CountryIsoCode is { } k ? $"\"{k}\" <utf8_string>" : null);
            Assert.Equal(await TheirsAsync(file, address, "continent", "code"), ours.ContinentCode is { } o ? $"\"{o}\" <utf8_string>" : null);
            Assert.Equal(await TheirsAsync(file, address, "location", "latitude"), ours.HasCoordinates ? ours.Latitude.ToString("F6", CultureInfo.InvariantCulture) + " <double>" : null);
            Assert.Equal(await TheirsAsync(file, address, "location", "longitude"), ours.HasCoordinates ? ours.Longitude.ToString("F6", CultureInfo.InvariantCulture) + " <double>" : null);
        }

        if (ipVersion == 4)
        {
            Assert.False(database.TryLookupCity(IPAddress.Parse("2001:db8::1"), out _));
        }

        // A record with none of the City fields: found, but nothing to say.
        Assert.True(database.TryLookupCity(IPAddress.Parse("10.200.0.1"), out var bare));
        Assert.False(bare.HasCoordinates);
        Assert.Null(bare.CityName);
        Assert.Equal(8, bare.PrefixLength);
    }

    [WriterTheory]
    [InlineData(4, 24)]
    [InlineData(4, 28)]
    [InlineData(6, 24)]
    [InlineData(6, 32)]
    public async Task The_typed_city_path_reads_location_names_and_network(int ipVersion, int recordSize)
    {
        using var dir = new TempDir("ahm-geo");
        var file = dir.Combine("test.mmdb");
        await MaxMindWriter.WriteAsync(file, ipVersion, recordSize, city: "Zürich ☃");
        using var database = CityDatabase.Open(file);

        Assert.True(database.TryLookupCity(IPAddress.Parse("81.2.69.77"), out var london));
        Assert.Equal("Zürich ☃", london.CityName);
        Assert.Equal("GB", london.CountryIsoCode);
        Assert.Equal("EU", london.ContinentCode);
        Assert.True(london.HasCoordinates);
        Assert.Equal(51.5142, london.Latitude);
        Assert.Equal(-0.0931, london.Longitude);
        Assert.Equal(10, london.AccuracyRadiusKm);
        Assert.Equal(24, london.PrefixLength);
        Assert.Equal(IPNetwork.Parse("81.2.69.0/24"), london.Network);

        Assert.True(database.TryLookupCity(IPAddress.Parse("81.2.71.9"), out var elsewhere));
        Assert.Equal(("Elsewhere", -33.25, 151.125, 500, 23), (elsewhere.CityName, elsewhere.Latitude, elsewhere.Longitude, elsewhere.AccuracyRadiusKm, elsewhere.PrefixLength));

        // A dual-stack socket reports IPv4 clients as ::ffff:a.b.c.d; they are looked up as IPv4.
        Assert.True(database.TryLookupCity(IPAddress.Parse("::ffff:81.2.69.77"), out var mapped));
        Assert.Equal(IPNetwork.Parse("81.2.69.0/24"), mapped.Network);

        Assert.False(database.TryLookupCity(IPAddress.Parse("8.8.8.8"), out _));

        if (ipVersion == 6)
        {
            Assert.True(database.TryLookupCity(IPAddress.Parse("::81.2.69.77"), out var compatible));
            Assert.Equal(120, compatible.PrefixLength);
            Assert.Equal(IPNetwork.Parse("::81.2.69.0/120"), compatible.Network);
            Assert.True(database.TryLookupCity(IPAddress.Parse("2001:db8:1::5"), out var v6));
            Assert.Equal(("XX", 1.5, 2.5, 32), (v6.CountryIsoCode, v6.Latitude, v6.Longitude, v6.PrefixLength));
            Assert.Equal(IPNetwork.Parse("2001:db8::/32"), v6.Network);
        }
    }

    /// <summary>The value mmdblookup prints at a path (one line, layout aside), or null when there is none.</summary>
    private static async Task<string?> TheirsAsync(string file, string address, params string[] path)
    {
        var run = await ExternalProcess.RunAsync("mmdblookup", ["--file", file, "--ip", address, .. path]);
        var text = (run.Stdout + run.Stderr).Trim();
        return text.Contains("No data was found", StringComparison.Ordinal) || text.Contains("lookup path does not match", StringComparison.Ordinal) || text.Length == 0 ? null : string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
    }
}
