using System.Net;
using AdHocMirror.GeoIP.Format;
using AdHocMirror.Testing;
using static AdHocMirror.GeoIP.Tests.Format.HandmadeDatabase;

namespace AdHocMirror.GeoIP.Tests.Format;

/// <summary>
/// Bad files give an <see cref="InvalidDatabaseException"/> naming the file, at open, at verification or at
/// the lookup that meets the damage; never another exception, a crash or a hang.
/// </summary>
public sealed class MalformedDatabaseTests : IDisposable
{
    private static readonly IPAddress InData = IPAddress.Parse("1.2.3.4");
    private readonly TempDir _dir = new("ahm-geo-bad");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void An_empty_file_is_refused()
    {
        var error = Assert.Throws<InvalidDatabaseException>(() => CityDatabase.Open(Write([])));
        Assert.Contains("empty", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_without_the_metadata_marker_or_a_gzip_file_is_refused_naming_it()
    {
        var bytes = new byte[4096];
        new Random(7).NextBytes(bytes);
        var path = Write(bytes);
        Assert.Contains(path, Assert.Throws<InvalidDatabaseException>(() => CityDatabase.Open(path)).Message, StringComparison.Ordinal);

        var gzip = Write([0x1F, 0x8B, 0x08, 0x00, .. bytes]);
        Assert.Contains(gzip, Assert.Throws<InvalidDatabaseException>(() => CityDatabase.Open(gzip)).Message, StringComparison.Ordinal);
    }

    [WriterFact]
    public async Task A_truncated_file_is_refused_wherever_it_was_cut()
    {
        var whole = _dir.Combine("whole.mmdb");
        await MaxMindWriter.WriteAsync(whole, 6, 28);
        var bytes = await System.IO.File.ReadAllBytesAsync(whole);
        var marker = bytes.AsSpan().LastIndexOf(Marker);
        foreach (var cut in new[] { 10, bytes.Length / 2, marker - 1, marker + 5, marker + Marker.Length + 1, marker + Marker.Length + 40, bytes.Length - 1 })
        {
            var path = Write(bytes[..cut]);
            var error = Assert.Throws<InvalidDatabaseException>(() => OpenAndVerify(path));
            Assert.Contains(path, error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Metadata_that_does_not_describe_the_file_is_refused()
    {
        var missing = Map(("record_size", Unsigned(5, 24)), ("ip_version", Unsigned(5, 4)), ("binary_format_major_version", Unsigned(5, 2)), ("database_type", String("x")));
        byte[][] files =
        [
            File(String("x"), metadata: Metadata(1, 20, 4)),                   // unsupported record size
            File(String("payload-bytes-here"), metadata: Metadata(1, 32, 4)),  // a record size that moves the separator onto data
            File(String("x"), metadata: Metadata(1000, 24, 4)),                // more nodes than the file holds
            File(String("x"), metadata: missing),                              // no node_count
            File(String("x"), metadata: Metadata(1, 24, 5)),                   // ip_version 5
        ];
        var accepted = files.Select((bytes, i) => (i, Record.Exception(() => OpenAndVerify(Write(bytes), lookUp: true))))
            .Where(p => p.Item2 is not InvalidDatabaseException).Select(p => $"file {p.i}: {p.Item2?.GetType().Name ?? "accepted"}");
        Assert.Empty(accepted);
    }

    [Fact]
    public void A_pointer_out_of_range_fails_the_lookup_and_verification()
    {
        using var database = CityDatabase.Open(Write(File(Map(("city", Pointer(1, 400_000))))));
        Assert.Contains(database.Path, Assert.Throws<InvalidDatabaseException>(() => database.TryLookupCity(InData, out _)).Message, StringComparison.Ordinal);
        Assert.Throws<InvalidDatabaseException>(database.Verify);
    }

    [Fact]
    public async Task Pointers_that_point_back_are_refused_or_read_once_never_followed_forever()
    {
        // A map whose city points back to the map itself: read as a city, the map has no names.
        await Bounded(() =>
        {
            using var cycle = CityDatabase.Open(Write(File(Map(("city", Pointer(0, 0))))));
            Assert.True(cycle.TryLookupCity(InData, out var city));
            Assert.Null(city.CityName);
        });

        // A pointer pointing at itself: a pointer to a pointer, which the specification does not allow.
        await Bounded(() =>
        {
            using var self = CityDatabase.Open(Write(File(Pointer(0, 0))));
            try
            {
                self.TryLookupCity(InData, out _);
            }
            catch (InvalidDatabaseException)
            {
            }
        });
    }

    [Fact]
    public void A_tree_record_pointing_past_the_data_section_is_refused()
    {
        using var database = CityDatabase.Open(Write(File(String("x"), dataOffset: 5000)));
        Assert.Throws<InvalidDatabaseException>(() => database.TryLookupCity(InData, out _));
        Assert.Throws<InvalidDatabaseException>(database.Verify);
        Assert.False(database.TryLookupCity(IPAddress.Parse("200.0.0.1"), out _));
    }

    [Fact]
    public void Fields_that_are_not_what_their_type_allows_are_refused()
    {
        byte[][] records =
        [
            Map(("city", Map(("names", Map(("en", Unsigned(5, 7))))))),                 // a number where a name belongs
            Map(("location", Map(("latitude", String("north"))))),                      // a string where a double belongs
            Map(("location", Map(("latitude", [.. Control(3, 4), 0, 0, 0, 0])))),       // a double of 4 bytes
            Map(("country", Map(("iso_code", Control(2, 200))))),                       // a string running past the end
        ];
        var accepted = records.Select((record, i) => (i, Record.Exception(() =>
        {
            using var database = CityDatabase.Open(Write(File(record)));
            database.TryLookupCity(InData, out _);
        }))).Where(p => p.Item2 is not InvalidDatabaseException).Select(p => $"record {p.i}: {p.Item2?.GetType().Name ?? "accepted"} {p.Item2?.Message}");
        Assert.Empty(accepted);
    }

    [Fact]
    public void Pointers_of_all_four_sizes_are_followed()
    {
        // Names at offsets that need 11-, 19- and 27-bit pointers, and one reached by a 32-bit pointer.
        var data = new byte[700_000];
        var record = Map(
            ("city", Pointer(0, 1000)),
            ("country", Pointer(1, 300_000)),
            ("continent", Pointer(2, 600_000)),
            ("location", Pointer(3, 1200)));
        record.CopyTo(data, 0);
        Map(("names", Map(("en", String("eleven"))))).CopyTo(data, 1000);
        Map(("iso_code", String("NT"))).CopyTo(data, 300_000);
        Map(("code", String("TS"))).CopyTo(data, 600_000);
        Map(("latitude", [.. Control(3, 8), .. BitConverter.GetBytes(12.5).Reverse()]), ("longitude", [.. Control(3, 8), .. BitConverter.GetBytes(-3.25).Reverse()])).CopyTo(data, 1200);

        using var database = CityDatabase.Open(Write(File(data)));
        database.Verify();
        Assert.True(database.TryLookupCity(InData, out var city));
        Assert.Equal(("eleven", "NT", "TS", 12.5, -3.25, 1), (city.CityName, city.CountryIsoCode, city.ContinentCode, city.Latitude, city.Longitude, city.PrefixLength));
        Assert.False(database.TryLookupCity(IPAddress.Parse("128.0.0.1"), out _));
    }

    private static void OpenAndVerify(string path, bool lookUp = false)
    {
        using var database = CityDatabase.Open(path);
        database.Verify();
        if (lookUp)
        {
            database.TryLookupCity(InData, out _);
        }
    }

    private static Task Bounded(Action action) => Task.Run(action).WaitAsync(TimeSpan.FromSeconds(30));

    private string Write(byte[] bytes)
    {
        var path = _dir.Combine(Guid.NewGuid().ToString("N") + ".mmdb");
        System.IO.File.WriteAllBytes(path, bytes);
        return path;
    }
}
