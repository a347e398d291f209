using System.Net;
using AdHocMirror.GeoIP.Format;
using AdHocMirror.Testing;
using static AdHocMirror.GeoIP.Tests.Format.HandmadeDatabase;

namespace AdHocMirror.GeoIP.Tests.Format;

/// <summary>Bad files give an <see cref="InvalidDatabaseException"/> that says what is wrong; never a crash or a hang.</summary>
public sealed class MalformedDatabaseTests : IDisposable
{
    private static readonly IPAddress InData = IPAddress.Parse("1.2.3.4");
    private readonly TempDir _dir = new("ahm-geo-bad");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void An_empty_file_is_refused()
    {
        var error = Assert.Throws<InvalidDatabaseException>(() => GeoDatabase.Open(Write([])));
        Assert.Contains("empty", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_without_the_metadata_marker_is_refused()
    {
        var bytes = new byte[4096];
        new Random(7).NextBytes(bytes);
        var error = Assert.Throws<InvalidDatabaseException>(() => GeoDatabase.Open(Write(bytes)));
        Assert.Contains("no metadata marker", error.Message, StringComparison.Ordinal);
    }

    [WriterFact]
    public async Task A_truncated_file_is_refused_wherever_it_was_cut()
    {
        var whole = _dir.Combine("whole.mmdb");
        await MaxMindWriter.WriteAsync(whole, 6, 28);
        var bytes = await System.IO.File.ReadAllBytesAsync(whole);
        var marker = bytes.AsSpan().LastIndexOf(Marker);
        foreach (var cut in new[] { 10, bytes.Length / 2, marker + 5, marker + Marker.Length + 1, marker + Marker.Length + 40, bytes.Length - 1 })
        {
            var error = Assert.Throws<InvalidDatabaseException>(() => GeoDatabase.Open(Write(bytes[..cut])));
            Assert.False(string.IsNullOrWhiteSpace(error.Message));
        }
    }

    [Fact]
    public void An_unsupported_record_size_is_refused()
    {
        var error = Assert.Throws<InvalidDatabaseException>(() => GeoDatabase.Open(Write(File(String("x"), metadata: Metadata(1, 20, 4)))));
        Assert.Contains("record_size 20", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_record_size_that_does_not_match_the_layout_is_refused()
    {
        // The file holds one 24-bit node; claiming 32 bits moves the separator onto data.
        var error = Assert.Throws<InvalidDatabaseException>(() => GeoDatabase.Open(Write(File(String("payload-bytes-here"), metadata: Metadata(1, 32, 4)))));
        Assert.Contains("not zero", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_node_count_larger_than_the_file_is_refused()
    {
        var error = Assert.Throws<InvalidDatabaseException>(() => GeoDatabase.Open(Write(File(String("x"), metadata: Metadata(1000, 24, 4)))));
        Assert.Contains("do not fit", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Metadata_without_a_required_key_or_of_an_unknown_major_version_is_refused()
    {
        var missing = Map(("record_size", Unsigned(5, 24)), ("ip_version", Unsigned(5, 4)), ("binary_format_major_version", Unsigned(5, 2)), ("database_type", String("x")));
        Assert.Contains("node_count", Assert.Throws<InvalidDatabaseException>(() => GeoDatabase.Open(Write(File(String("x"), metadata: missing)))).Message, StringComparison.Ordinal);
        Assert.Contains("binary_format_major_version 3", Assert.Throws<InvalidDatabaseException>(() => GeoDatabase.Open(Write(File(String("x"), metadata: Metadata(1, 24, 4, majorVersion: 3))))).Message, StringComparison.Ordinal);
        Assert.Contains("ip_version 5", Assert.Throws<InvalidDatabaseException>(() => GeoDatabase.Open(Write(File(String("x"), metadata: Metadata(1, 24, 5))))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_pointer_out_of_range_fails_the_lookup_and_verification()
    {
        using var database = GeoDatabase.Open(Write(File(Map(("city", Pointer(1, 400_000))))));
        Assert.Contains("beyond", Assert.Throws<InvalidDatabaseException>(() => database.Lookup(InData)).Message, StringComparison.Ordinal);
        Assert.Contains("beyond", Assert.Throws<InvalidDatabaseException>(() => database.TryLookupCity(InData, out _)).Message, StringComparison.Ordinal);
        Assert.Throws<InvalidDatabaseException>(database.Verify);
    }

    [Fact]
    public void A_cycle_of_pointers_is_detected_not_followed_forever()
    {
        // A map whose value points back to the map itself.
        using var cycle = GeoDatabase.Open(Write(File(Map(("self", Pointer(0, 0))))));
        Assert.Contains("nested deeper", Assert.Throws<InvalidDatabaseException>(() => cycle.Lookup(InData)).Message, StringComparison.Ordinal);
        Assert.Contains("nested deeper", Assert.Throws<InvalidDatabaseException>(cycle.Verify).Message, StringComparison.Ordinal);
        Assert.True(cycle.TryLookupCity(InData, out var city));
        Assert.Null(city.CityName);

        // A pointer pointing at itself: a pointer to a pointer, which the specification does not allow.
        using var self = GeoDatabase.Open(Write(File(Pointer(0, 0))));
        Assert.Contains("another pointer", Assert.Throws<InvalidDatabaseException>(() => self.Lookup(InData)).Message, StringComparison.Ordinal);
        Assert.Throws<InvalidDatabaseException>(self.Verify);
    }

    [Fact]
    public void A_tree_record_pointing_past_the_data_section_is_refused()
    {
        using var database = GeoDatabase.Open(Write(File(String("x"), dataOffset: 5000)));
        Assert.Contains("outside the data section", Assert.Throws<InvalidDatabaseException>(() => database.Lookup(InData)).Message, StringComparison.Ordinal);
        Assert.Throws<InvalidDatabaseException>(database.Verify);
        Assert.False(database.TryLookupCity(IPAddress.Parse("200.0.0.1"), out _));
    }

    [Fact]
    public void Fields_that_are_not_what_their_type_allows_are_refused()
    {
        var cases = new (byte[] Data, string Message)[]
        {
            (Map(("k", [0x00, 0x09])), "extended type"),
            ([.. Control(7, 1), .. Unsigned(6, 1), .. String("v")], "expected a string"),
            ([.. Control(3, 4), 0, 0, 0, 0], "not 8"),
            ([.. Control(5, 3), 1, 2, 3], "too many"),
            (Control(2, 200), "past the end"),
        };
        foreach (var (data, message) in cases)
        {
            using var database = GeoDatabase.Open(Write(File(data)));
            Assert.Contains(message, Assert.Throws<InvalidDatabaseException>(() => database.Lookup(InData)).Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Pointers_of_all_four_sizes_are_followed_and_mmdblookup_agrees()
    {
        // Strings at offsets that need 11-, 19- and 27-bit pointers, and one reached by a 32-bit pointer.
        var data = new byte[700_000];
        var record = Map(
            ("p0", Pointer(0, 1000)),
            ("p1", Pointer(1, 300_000)),
            ("p2", Pointer(2, 600_000)),
            ("p3", Pointer(3, 1200)),
            ("inline", Unsigned(9, 42)));
        record.CopyTo(data, 0);
        String("eleven").CopyTo(data, 1000);
        String("nineteen").CopyTo(data, 300_000);
        String("twenty-seven").CopyTo(data, 600_000);
        String("thirty-two").CopyTo(data, 1200);
        var path = Write(File(data));

        using var database = GeoDatabase.Open(path);
        database.Verify();
        var value = database.Lookup(InData, out var prefix)!;
        Assert.Equal(1, prefix);
        Assert.Equal(
            ["eleven", "nineteen", "twenty-seven", "thirty-two"],
            new[] { "p0", "p1", "p2", "p3" }.Select(k => value[k]!.AsString()));
        Assert.Equal(42UL, value["inline"]!.AsUInt64());
        Assert.Null(database.Lookup(IPAddress.Parse("128.0.0.1"), out var emptyPrefix));
        Assert.Equal(1, emptyPrefix);

        if (ExternalProcess.Exists("mmdblookup"))
        {
            var theirs = await ExternalProcess.RunAsync("mmdblookup", ["--file", path, "--ip", "1.2.3.4", "p2"]);
            Assert.Contains("\"twenty-seven\"", theirs.Stdout, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void End_markers_and_data_cache_containers_decode_as_such()
    {
        using var database = GeoDatabase.Open(Write(File(Array(Control(13, 0), [.. Control(12, 3), 1, 2, 3], String("after")))));
        var items = database.Lookup(InData)!.AsArray();
        Assert.Equal([MmdbKind.EndMarker, MmdbKind.DataCacheContainer, MmdbKind.String], items.Select(i => i.Kind));
        Assert.Equal("after", items[2].AsString());
        database.Verify();
    }

    private string Write(byte[] bytes)
    {
        var path = _dir.Combine(Guid.NewGuid().ToString("N") + ".mmdb");
        System.IO.File.WriteAllBytes(path, bytes);
        return path;
    }
}
