using System.Collections.Concurrent;
using System.Net;
using System.Text;

namespace AdHocMirror.GeoIP.Format;

/// <summary>
/// Reads the few fields of a GeoIP2/GeoLite2 City record the matcher needs straight from the data
/// section, skipping the rest, without building maps.
/// </summary>
internal static class CityRecord
{
    public static CityLocation Read(DataSection data, int offset, CityStrings strings, IPAddress address, int prefixLength)
    {
        var payload = data.Resolve(offset, out var kind, out var count, out _);
        if (kind != MmdbKind.Map)
        {
            return new CityLocation { Address = address, PrefixLength = prefixLength };
        }

        string? city = null, continent = null, country = null, timeZone = null;
        double latitude = 0, longitude = 0;
        bool hasLatitude = false, hasLongitude = false;
        var radius = 0;
        var subdivisionCount = 0;
        Subdivision first = default, second = default;

        var at = payload;
        for (var i = 0; i < count; i++)
        {
            var key = data.ReadKey(ref at);
            var entry = data.Resolve(at, out var entryKind, out var entrySize, out var afterPointer);
            if (key.SequenceEqual("city"u8))
            {
                city = FieldIn(data, entry, entryKind, entrySize, "names"u8, out var names) && Field(data, names, "en"u8, out var english)
                    ? String(data, english, strings)
                    : null;
            }
            else if (key.SequenceEqual("continent"u8))
            {
                continent = FieldIn(data, entry, entryKind, entrySize, "code"u8, out var code) ? String(data, code, strings) : null;
            }
            else if (key.SequenceEqual("country"u8))
            {
                country = FieldIn(data, entry, entryKind, entrySize, "iso_code"u8, out var iso) ? String(data, iso, strings) : null;
            }
            else if (key.SequenceEqual("location"u8))
            {
                var location = entry;
                for (var f = 0; entryKind == MmdbKind.Map && f < entrySize; f++)
                {
                    var name = data.ReadKey(ref location);
                    var value = data.Resolve(location, out var valueKind, out var size, out var afterValue);
                    if (name.SequenceEqual("latitude"u8))
                    {
                        hasLatitude = data.TryReadNumber(valueKind, value, size, out latitude);
                    }
                    else if (name.SequenceEqual("longitude"u8))
                    {
                        hasLongitude = data.TryReadNumber(valueKind, value, size, out longitude);
                    }
                    else if (name.SequenceEqual("accuracy_radius"u8))
                    {
                        radius = data.TryReadNumber(valueKind, value, size, out var r) ? (int)Math.Clamp(r, 0, int.MaxValue) : 0;
                    }
                    else if (name.SequenceEqual("time_zone"u8))
                    {
                        timeZone = valueKind == MmdbKind.String ? strings.Get(value, data.Payload(value, size)) : null;
                    }

                    location = afterValue >= 0 ? afterValue : data.SkipPayload(value, valueKind, size, 1);
                }
            }
            else if (key.SequenceEqual("subdivisions"u8))
            {
                var item = entry;
                for (var s = 0; entryKind == MmdbKind.Array && s < entrySize && s < 2; s++)
                {
                    var subdivision = new Subdivision(
                        Field(data, item, "iso_code"u8, out var iso) ? String(data, iso, strings) : null,
                        EnglishName(data, item, strings));
                    if (s == 0)
                    {
                        first = subdivision;
                    }
                    else
                    {
                        second = subdivision;
                    }

                    subdivisionCount++;
                    item = data.Next(item);
                }
            }

            at = afterPointer >= 0 ? afterPointer : data.SkipPayload(entry, entryKind, entrySize, 0);
        }

        return new CityLocation
        {
            Address = address,
            PrefixLength = prefixLength,
            HasCoordinates = hasLatitude && hasLongitude,
            Latitude = latitude,
            Longitude = longitude,
            AccuracyRadiusKm = radius,
            ContinentCode = continent,
            CountryIsoCode = country,
            CityName = city,
            TimeZone = timeZone,
            SubdivisionCount = subdivisionCount,
            FirstSubdivision = first,
            SecondSubdivision = second,
        };
    }

    /// <summary><c>names.en</c> of the map at <paramref name="offset"/>.</summary>
    private static string? EnglishName(DataSection data, int offset, CityStrings strings) =>
        Field(data, offset, "names"u8, out var names) && Field(data, names, "en"u8, out var english)
            ? String(data, english, strings)
            : null;

    /// <summary>Finds the field named <paramref name="key"/> in the map at <paramref name="offset"/> (following a pointer).</summary>
    private static bool Field(DataSection data, int offset, ReadOnlySpan<byte> key, out int field)
    {
        var payload = data.Resolve(offset, out var kind, out var count, out _);
        return FieldIn(data, payload, kind, count, key, out field);
    }

    /// <summary>As <see cref="Field"/>, for a value whose header was read already.</summary>
    private static bool FieldIn(DataSection data, int payload, MmdbKind kind, int count, ReadOnlySpan<byte> key, out int field)
    {
        var at = payload;
        for (var i = 0; kind == MmdbKind.Map && i < count; i++)
        {
            var name = data.ReadKey(ref at);
            if (name.SequenceEqual(key))
            {
                field = at;
                return true;
            }

            at = data.Next(at);
        }

        field = -1;
        return false;
    }

    private static string? String(DataSection data, int offset, CityStrings strings)
    {
        var payload = data.Resolve(offset, out var kind, out var size, out _);
        return kind == MmdbKind.String ? strings.Get(payload, data.Payload(payload, size)) : null;
    }
}

/// <summary>
/// Decoded strings of one database, by their offset in the data section. City databases share names
/// through pointers, so after warm-up lookups allocate nothing; the cap bounds memory on odd files.
/// </summary>
internal sealed class CityStrings
{
    private const int Capacity = 1 << 18;
    private readonly ConcurrentDictionary<int, string> _byOffset = new();

    public string Get(int offset, ReadOnlySpan<byte> utf8)
    {
        if (_byOffset.TryGetValue(offset, out var text))
        {
            return text;
        }

        text = Encoding.UTF8.GetString(utf8);
        if (_byOffset.Count < Capacity)
        {
            _byOffset.TryAdd(offset, text);
        }

        return text;
    }
}
