using System.Globalization;
using System.Net;
using System.Text;
using AdHocMirror.GeoIP.Format;
using AdHocMirror.Testing;

namespace AdHocMirror.GeoIP.Tests.Format;

/// <summary>
/// Files written by MaxMind's Perl writer, in every record size, IPv4-only and IPv6 with IPv4
/// networks: our answers equal mmdblookup's, and the values the script wrote.
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
    public async Task Every_record_equals_what_mmdblookup_prints(int ipVersion, int recordSize)
    {
        using var dir = new TempDir("ahm-geo");
        var file = dir.Combine("test.mmdb");
        await MaxMindWriter.WriteAsync(file, ipVersion, recordSize);
        using var database = GeoDatabase.Open(file);
        Assert.Equal(recordSize, database.Metadata.RecordSize);
        Assert.Equal(ipVersion, database.Metadata.IpVersion);
        Assert.Equal("AHM-Test-City", database.Metadata.DatabaseType);
        Assert.Equal(["en", "de"], database.Metadata.Languages);
        Assert.Equal("Ad Hoc Mirror test database", database.Metadata.Description["en"]);
        database.Verify();

        var addresses = ipVersion == 6 ? Ipv4Addresses.Concat(Ipv6Addresses) : Ipv4Addresses;
        foreach (var address in addresses)
        {
            var theirs = await ExternalProcess.RunAsync("mmdblookup", ["--file", file, "--ip", address]);
            var ours = database.Lookup(IPAddress.Parse(address));
            if (ours is null)
            {
                Assert.Contains("Could not find an entry", theirs.Stdout + theirs.Stderr, StringComparison.Ordinal);
                continue;
            }

            theirs.EnsureSuccess($"mmdblookup {address}");
            Assert.Equal(Tokens(theirs.Stdout), Tokens(AsMmdblookup(ours)));
        }

        if (ipVersion == 4)
        {
            Assert.Null(database.Lookup(IPAddress.Parse("2001:db8::1")));
            Assert.False(database.TryLookupCity(IPAddress.Parse("2001:db8::1"), out _));
        }
    }

    [WriterTheory]
    [InlineData(4, 24)]
    [InlineData(6, 28)]
    [InlineData(6, 32)]
    public async Task Every_type_decodes_to_the_value_the_writer_was_given(int ipVersion, int recordSize)
    {
        using var dir = new TempDir("ahm-geo");
        var file = dir.Combine("test.mmdb");
        await MaxMindWriter.WriteAsync(file, ipVersion, recordSize);
        using var database = GeoDatabase.Open(file);

        var all = database.Lookup(IPAddress.Parse("10.200.0.1"), out var prefix)!["all"]!;
        Assert.Equal(8, prefix);
        Assert.Equal(MmdbKind.UInt16, all["u16"]!.Kind);
        Assert.Equal(65535UL, all["u16"]!.AsUInt64());
        Assert.Equal(MmdbKind.UInt32, all["u32"]!.Kind);
        Assert.Equal(uint.MaxValue, all["u32"]!.AsUInt64());
        Assert.Equal(MmdbKind.UInt64, all["u64"]!.Kind);
        Assert.Equal(ulong.MaxValue, all["u64"]!.AsUInt64());
        Assert.Equal(0UL, all["zero64"]!.AsUInt64());
        Assert.Equal(MmdbKind.UInt128, all["u128"]!.Kind);
        Assert.Equal(UInt128.MaxValue, all["u128"]!.AsUInt128());
        Assert.Equal((UInt128)ulong.MaxValue + 2, all["mid128"]!.AsUInt128());
        Assert.Equal(int.MinValue, all["i32"]!.AsInt32());
        Assert.Equal(-1, all["small_i32"]!.AsInt32());
        Assert.Equal(-123456.789, all["dbl"]!.AsDouble());
        Assert.Equal(MmdbKind.Float, all["flt"]!.Kind);
        Assert.Equal(1.25f, all["flt"]!.AsFloat());
        Assert.True(all["yes"]!.AsBoolean());
        Assert.False(all["no"]!.AsBoolean());
        Assert.Equal(new byte[] { 0, 1, 0xAB, 0xFF }, all["raw"]!.AsBytes().ToArray());
        Assert.Equal([1UL, 2UL, 3UL], all["list"]!.AsArray().Select(v => v.AsUInt64()));
        Assert.Equal(MaxMindWriter.Text, all["text"]!.AsString());
        Assert.Equal(new string('x', 70000), all["long_text"]!.AsString());
        Assert.Equal("a", all.Path("nested", "deeper", "0", "text")!.AsString());
        Assert.Empty(all.Path("nested", "deeper", "1", "empty_map")!.AsMap());
        Assert.Empty(all.Path("nested", "deeper", "1", "empty_list")!.AsArray());

        // The typed path on a record with none of its fields: found, but nothing to say.
        Assert.True(database.TryLookupCity(IPAddress.Parse("10.0.0.1"), out var bare));
        Assert.False(bare.HasCoordinates);
        Assert.Null(bare.CityName);
        Assert.Equal(0, bare.SubdivisionCount);
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
        using var database = GeoDatabase.Open(file);

        Assert.True(database.TryLookupCity(IPAddress.Parse("81.2.69.77"), out var london));
        Assert.Equal("Zürich ☃", london.CityName);
        Assert.Equal("GB", london.CountryIsoCode);
        Assert.Equal("EU", london.ContinentCode);
        Assert.True(london.HasCoordinates);
        Assert.Equal(51.5142, london.Latitude);
        Assert.Equal(-0.0931, london.Longitude);
        Assert.Equal(10, london.AccuracyRadiusKm);
        Assert.Equal("Europe/London", london.TimeZone);
        Assert.Equal(2, london.SubdivisionCount);
        Assert.Equal(new Subdivision("ENG", "England"), london.FirstSubdivision);
        Assert.Equal(new Subdivision("WBK", "West Berkshire"), london.MostSpecificSubdivision);
        Assert.Equal(24, london.PrefixLength);
        Assert.Equal(IPNetwork.Parse("81.2.69.0/24"), london.Network);

        Assert.True(database.TryLookupCity(IPAddress.Parse("81.2.71.9"), out var elsewhere));
        Assert.Equal(("Elsewhere", -33.25, 151.125, 500, 23), (elsewhere.CityName, elsewhere.Latitude, elsewhere.Longitude, elsewhere.AccuracyRadiusKm, elsewhere.PrefixLength));
        Assert.Equal(0, elsewhere.SubdivisionCount);

        // A dual-stack socket reports IPv4 clients as ::ffff:a.b.c.d; they are looked up as IPv4.
        Assert.True(database.TryLookupCity(IPAddress.Parse("::ffff:81.2.69.77"), out var mapped));
        Assert.Equal(IPNetwork.Parse("81.2.69.0/24"), mapped.Network);

        Assert.False(database.TryLookupCity(IPAddress.Parse("8.8.8.8"), out _));
        Assert.Null(database.Lookup(IPAddress.Parse("8.8.8.8"), out var emptyPrefix));
        Assert.InRange(emptyPrefix, 1, 32);
        Assert.False(database.TryFindNetwork(IPAddress.Parse("8.8.8.8"), out var alsoEmpty));
        Assert.Equal(emptyPrefix, alsoEmpty);
        Assert.True(database.TryFindNetwork(IPAddress.Parse("81.2.69.200"), out var matched));
        Assert.Equal(24, matched);

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

    /// <summary>Renders a value the way mmdblookup prints it (layout aside).</summary>
    private static string AsMmdblookup(MmdbValue value)
    {
        var text = new StringBuilder();
        Render(value);
        return text.ToString();

        void Render(MmdbValue v)
        {
            var invariant = CultureInfo.InvariantCulture;
            switch (v.Kind)
            {
                case MmdbKind.Map:
                    text.Append("{\n");
                    foreach (var (key, item) in v.AsMap())
                    {
                        text.Append('"').Append(key).Append("\": ");
                        Render(item);
                    }

                    text.Append("}\n");
                    break;
                case MmdbKind.Array:
                    text.Append("[\n");
                    foreach (var item in v.AsArray())
                    {
                        Render(item);
                    }

                    text.Append("]\n");
                    break;
                case MmdbKind.String:
                    text.Append('"').Append(v.AsString()).Append("\" <utf8_string>\n");
                    break;
                case MmdbKind.Double:
                    text.Append(v.AsDouble().ToString("F6", invariant)).Append(" <double>\n");
                    break;
                case MmdbKind.Float:
                    text.Append(((double)v.AsFloat()).ToString("F6", invariant)).Append(" <float>\n");
                    break;
                case MmdbKind.Int32:
                    text.Append(v.AsInt32().ToString(invariant)).Append(" <int32>\n");
                    break;
                case MmdbKind.UInt128:
                    text.Append("0x").Append(v.AsUInt128().ToString("X32", invariant)).Append(" <uint128>\n");
                    break;
                case MmdbKind.UInt16 or MmdbKind.UInt32 or MmdbKind.UInt64:
                    text.Append(v.AsUInt64().ToString(invariant)).Append(" <").Append(v.Kind.ToString().ToLowerInvariant()).Append(">\n");
                    break;
                case MmdbKind.Boolean:
                    text.Append(v.AsBoolean() ? "true" : "false").Append(" <boolean>\n");
                    break;
                case MmdbKind.Bytes:
                    text.Append(Convert.ToHexString(v.AsBytes().Span)).Append(" <bytes>\n");
                    break;
                default:
                    text.Append('<').Append(v.Kind).Append(">\n");
                    break;
            }
        }
    }

    private static string[] Tokens(string text) => text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
}
