using System.Net;

namespace AdHocMirror.GeoIP;

/// <summary>
/// One opened City database file. Lookups are thread-safe and may run while another thread disposes
/// it: the file is released after the last running lookup, and later lookups throw <see cref="ObjectDisposedException"/>.
/// </summary>
public interface ICityDatabase : IDisposable
{
    string Path { get; }

    string DatabaseType { get; }

    DateTimeOffset BuildTime { get; }

    /// <summary>The City fields of an address; false when the database has no record for it.</summary>
    bool TryLookupCity(IPAddress address, out CityLocation location);

    /// <summary>Reads the whole file; throws <see cref="Format.InvalidDatabaseException"/> on the first problem.</summary>
    void Verify();
}

/// <summary>Which code reads the City database.</summary>
public enum CityReader
{
    /// <summary>This project's reader (<see cref="GeoDatabase"/>).</summary>
    Managed,

    /// <summary>MaxMind's own .NET reader, MaxMind.Db (<see cref="Library.MaxMindCityDatabase"/>).</summary>
    MaxMindDb,
}
