using System.Net;
using System.Net.Sockets;
using MaxMind.Db;
using InvalidDatabaseException = AdHocMirror.GeoIP.Format.InvalidDatabaseException;

namespace AdHocMirror.GeoIP;

/// <summary>
/// A City database file (.mmdb) read by MaxMind's own reader (MaxMind.Db, memory-mapped), decoding only
/// <see cref="CityFields"/>. MaxMind.Db's errors come out as <see cref="InvalidDatabaseException"/> naming the file.
/// Lookups are thread-safe and may run while another thread disposes it: the file is unmapped after the
/// last running lookup ends, and lookups that start later throw <see cref="ObjectDisposedException"/>.
/// </summary>
public sealed class CityDatabase : IDisposable
{
    private readonly Reader _reader;
    private readonly LookupCounter _lookups = new();
    private int _disposed;
    private int _closed;

    private CityDatabase(string path, Reader reader)
    {
        Path = path;
        _reader = reader;
    }

    public string Path { get; }

    public string DatabaseType => _reader.Metadata.DatabaseType;

    public DateTimeOffset BuildTime => new(DateTime.SpecifyKind(_reader.Metadata.BuildDate, DateTimeKind.Utc));

    /// <summary>Maps <paramref name="path"/>; a file MaxMind.Db cannot read throws <see cref="InvalidDatabaseException"/>.</summary>
    public static CityDatabase Open(string path)
    {
        if (new FileInfo(path) is { Exists: true, Length: 0 })
        {
            throw new InvalidDatabaseException($"{path}: the file is empty");
        }

        try
        {
            return new CityDatabase(path, new Reader(path, FileAccessMode.MemoryMapped));
        }
        catch (Exception e) when (IsBadData(e))
        {
            throw new InvalidDatabaseException($"{path}: {e.Message}", e);
        }
    }

    /// <summary>The City fields of an address; false when the database has no record for it.</summary>
    public bool TryLookupCity(IPAddress address, out CityLocation location)
    {
        var stripe = Enter();
        try
        {
            if (address.IsIPv4MappedToIPv6)
            {
                address = address.MapToIPv4();
            }

            // MaxMind.Db refuses an IPv6 address in an IPv4-only tree; so does mmdblookup: no record.
            var prefixLength = 0;
            var record = address.AddressFamily == AddressFamily.InterNetworkV6 && _reader.Metadata.IPVersion == 4
                ? null
                : _reader.Find<CityFields>(address, out prefixLength);
            if (record is null)
            {
                location = default;
                return false;
            }

            var point = record.Location;
            location = new CityLocation
            {
                Address = address,
                PrefixLength = prefixLength,
                HasCoordinates = point?.Latitude is not null && point.Longitude is not null,
                Latitude = point?.Latitude ?? 0,
                Longitude = point?.Longitude ?? 0,
                AccuracyRadiusKm = Math.Max(0, point?.AccuracyRadius ?? 0),
                ContinentCode = record.Continent?.Code,
                CountryIsoCode = record.Country?.IsoCode,
                CityName = record.City?.Names?.English,
            };
            return true;
        }
        catch (Exception e) when (IsBadData(e))
        {
            throw new InvalidDatabaseException($"{Path}: looking up {address}: {e.Message}", e);
        }
        finally
        {
            Exit(stripe);
        }
    }

    /// <summary>
    /// Decodes every network's record; throws <see cref="InvalidDatabaseException"/> on the first problem. Fields
    /// matching does not read are skipped by MaxMind.Db, not checked.
    /// </summary>
    public void Verify()
    {
        var stripe = Enter();
        try
        {
            var networks = 0L;
            foreach (var _ in _reader.FindAll<CityFields>())
            {
                networks++;
            }

            // MaxMind.Db reads a file whose metadata lacks node_count as an empty tree; no City database is empty.
            if (networks == 0)
            {
                throw new InvalidDatabaseException($"{Path}: no network has a record: not a City database, or its node_count/record_size are wrong");
            }
        }
        catch (Exception e) when (IsBadData(e))
        {
            throw new InvalidDatabaseException($"{Path}: {e.Message}", e);
        }
        finally
        {
            Exit(stripe);
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            CloseIfIdle();
        }
    }

    /// <summary>What MaxMind.Db throws on a damaged file (its decoder indexes past ends and casts what it finds).</summary>
    private static bool IsBadData(Exception e) =>
        e is MaxMind.Db.InvalidDatabaseException or DeserializationException or ArgumentException or IndexOutOfRangeException
            or InvalidCastException or OverflowException or FormatException or NullReferenceException;

    private int Enter()
    {
        var stripe = _lookups.Enter();

        // Entering is a full fence, as is setting _disposed: either Dispose sees this lookup running, or this lookup sees it disposed.
        if (Volatile.Read(ref _disposed) != 0)
        {
            Exit(stripe);
            throw new ObjectDisposedException(nameof(CityDatabase), $"{Path} was closed");
        }

        return stripe;
    }

    private void Exit(int stripe)
    {
        _lookups.Exit(stripe);
        if (Volatile.Read(ref _disposed) != 0)
        {
            CloseIfIdle();
        }
    }

    private void CloseIfIdle()
    {
        if (_lookups.Running == 0 && Interlocked.CompareExchange(ref _closed, 1, 0) == 0)
        {
            _reader.Dispose();
        }
    }
}
