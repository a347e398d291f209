namespace AdHocMirror.GeoIP.Reloading;

/// <summary>Where the City database lives and how its replacement is noticed.</summary>
public sealed class CityDatabaseSourceOptions
{
    /// <summary>The conventional place geoipupdate writes GeoLite2 City to.</summary>
    public const string DefaultPath = "/usr/share/GeoIP/GeoLite2-City.mmdb";

    public string Path { get; set; } = DefaultPath;

    /// <summary>
    /// How often the file's identity (device, inode, size, modification time) is compared with the one in
    /// service, in case a directory notification was missed (network file systems, inotify limits).
    /// </summary>
    public TimeSpan CheckInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Watch the directory for the file being replaced, so that a swap happens within moments.</summary>
    public bool WatchDirectory { get; set; } = true;

    /// <summary>Decode every network's record before putting the file in service, at start and on each replacement.</summary>
    public bool VerifyBeforeService { get; set; } = true;

    /// <summary>
    /// When true, a missing or invalid file at start is an error (the exception escapes <see cref="CityDatabaseSource.Open"/>);
    /// when false, the source starts empty and picks the file up once a valid one appears.
    /// </summary>
    public bool RequiredAtStart { get; set; } = true;
}
