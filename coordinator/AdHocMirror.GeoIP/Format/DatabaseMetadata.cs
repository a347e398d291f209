namespace AdHocMirror.GeoIP.Format;

/// <summary>The metadata map at the end of a MaxMind DB file.</summary>
public sealed record DatabaseMetadata(
    uint NodeCount,
    int RecordSize,
    int IpVersion,
    string DatabaseType,
    IReadOnlyList<string> Languages,
    int BinaryFormatMajorVersion,
    int BinaryFormatMinorVersion,
    DateTimeOffset BuildTime,
    IReadOnlyDictionary<string, string> Description)
{
    internal static DatabaseMetadata From(MmdbValue map)
    {
        if (map.Kind != MmdbKind.Map)
        {
            throw new InvalidDatabaseException($"metadata is a {map.Kind}, not a map");
        }

        var nodeCount = Unsigned(map, "node_count", uint.MaxValue);
        var recordSize = (int)Unsigned(map, "record_size", ushort.MaxValue);
        if (recordSize is not (24 or 28 or 32))
        {
            throw new InvalidDatabaseException($"metadata: record_size {recordSize} is not supported (24, 28 or 32)");
        }

        var ipVersion = (int)Unsigned(map, "ip_version", ushort.MaxValue);
        if (ipVersion is not (4 or 6))
        {
            throw new InvalidDatabaseException($"metadata: ip_version {ipVersion} is neither 4 nor 6");
        }

        var major = (int)Unsigned(map, "binary_format_major_version", ushort.MaxValue);
        if (major != 2)
        {
            throw new InvalidDatabaseException($"metadata: binary_format_major_version {major} is not supported (2)");
        }

        var minor = map["binary_format_minor_version"] is not null ? (int)Unsigned(map, "binary_format_minor_version", ushort.MaxValue) : 0;
        var epoch = map["build_epoch"] is not null ? Unsigned(map, "build_epoch", 253402300799) : 0;
        var type = map["database_type"] is { Kind: MmdbKind.String } t ? t.AsString()
            : throw new InvalidDatabaseException("metadata: database_type is missing or not a string");
        var languages = map["languages"] is { Kind: MmdbKind.Array } l
            ? l.AsArray().Where(x => x.Kind == MmdbKind.String).Select(x => x.AsString()).ToArray()
            : [];
        var description = map["description"] is { Kind: MmdbKind.Map } d
            ? d.AsMap().Where(x => x.Value.Kind == MmdbKind.String).ToDictionary(x => x.Key, x => x.Value.AsString())
            : new Dictionary<string, string>();
        return new DatabaseMetadata(
            (uint)nodeCount, recordSize, ipVersion, type, languages, major, minor,
            DateTimeOffset.FromUnixTimeSeconds((long)epoch), description);
    }

    private static ulong Unsigned(MmdbValue map, string key, ulong max)
    {
        var value = map[key] ?? throw new InvalidDatabaseException($"metadata: required key {key} is missing");
        if (value.Kind is not (MmdbKind.UInt16 or MmdbKind.UInt32 or MmdbKind.UInt64 or MmdbKind.UInt128) || value.AsUInt128() > max)
        {
            throw new InvalidDatabaseException($"metadata: {key} is not an unsigned integer up to {max} ({value})");
        }

        return (ulong)value.AsUInt128();
    }
}
