using System.Net;
using AdHocMirror.GeoIP.Format;
using Microsoft.Extensions.Logging;

namespace AdHocMirror.GeoIP.Reloading;

/// <summary>
/// The City database in service, replaced without a pause when the file at its path is replaced
/// (geoipupdate writes a new file and renames it over the old one). Lookups never fail because of a
/// swap: a lookup uses the database that was current when it started, and a database is unmapped
/// only after its last lookup ends. A bad replacement is logged and the database in service stays.
/// </summary>
public sealed partial class CityDatabaseSource : IDisposable
{
    private readonly CityDatabaseSourceOptions _options;
    private readonly ILogger _logger;
    private readonly string _path;
    private readonly SemaphoreSlim _reloadGate = new(1, 1);
    private readonly Lock _swapGate = new();
    private readonly FileSystemWatcher? _watcher;
    private readonly ITimer _timer;
    private CityDatabase? _current;
    private FileIdentity? _inService;
    private FileIdentity? _rejected;
    private bool _reportedMissing;
    private int _checkRequested;
    private long _generation;
    private volatile bool _disposed;

    private CityDatabaseSource(CityDatabaseSourceOptions options, ILogger logger, TimeProvider time)
    {
        _options = options;
        _logger = logger;
        _path = System.IO.Path.GetFullPath(options.Path);
        if (options.WatchDirectory)
        {
            _watcher = Watch(_path);
        }

        _timer = time.CreateTimer(_ => RequestCheck(), null, options.CheckInterval, options.CheckInterval);
    }

    /// <summary>The database in service, or null when none could be loaded yet.</summary>
    public CityDatabase? Current => Volatile.Read(ref _current);

    /// <summary>Counts the databases put in service (1 after a successful start, +1 per swap).</summary>
    public long Generation => Interlocked.Read(ref _generation);

    public string Path => _path;

    /// <summary>Loads the database at <see cref="CityDatabaseSourceOptions.Path"/> and starts watching for its replacement.</summary>
    public static CityDatabaseSource Open(CityDatabaseSourceOptions options, ILogger<CityDatabaseSource> logger, TimeProvider? time = null)
    {
        var source = new CityDatabaseSource(options, logger, time ?? TimeProvider.System);
        try
        {
            if (options.RequiredAtStart)
            {
                var identity = FileIdentity.Of(source._path) ?? throw new FileNotFoundException($"GeoIP database {source._path} does not exist", source._path);
                source.PutInService(source.OpenChecked(), identity);
            }
            else
            {
                source.CheckNowAsync().GetAwaiter().GetResult();
            }

            return source;
        }
        catch
        {
            source.Dispose();
            throw;
        }
    }

    /// <summary>The City fields of an address from the database in service; false when there is none or it has no record.</summary>
    public bool TryLookupCity(IPAddress address, out CityLocation location)
    {
        while (true)
        {
            var database = Volatile.Read(ref _current);
            if (database is null)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                location = default;
                return false;
            }

            try
            {
                return database.TryLookupCity(address, out location);
            }
            catch (ObjectDisposedException) when (!_disposed)
            {
                // Swapped out between reading _current and starting the lookup: use the new one.
            }
        }
    }

    /// <summary>
    /// Compares the file with the one in service and swaps to it when it was replaced and is valid.
    /// True when a new database went into service. The watcher and the timer call this; so may a caller.
    /// </summary>
    public async Task<bool> CheckNowAsync(CancellationToken cancellationToken = default)
    {
        await _reloadGate.WaitAsync(cancellationToken);
        try
        {
            if (_disposed)
            {
                return false;
            }

            FileIdentity? identity;
            try
            {
                identity = FileIdentity.Of(_path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Log.ReplacementRejected(_logger, _path, e.Message);
                return false;
            }

            if (identity is null)
            {
                if (!_reportedMissing)
                {
                    _reportedMissing = true;
                    Log.Missing(_logger, _path, _current is not null);
                }

                return false;
            }

            _reportedMissing = false;
            if (identity == _inService || identity == _rejected)
            {
                return false;
            }

            CityDatabase fresh;
            try
            {
                fresh = await Task.Run(OpenChecked, cancellationToken);
            }
            catch (Exception e) when (e is InvalidDatabaseException or IOException or UnauthorizedAccessException)
            {
                _rejected = identity;
                Log.ReplacementRejected(_logger, _path, e.Message);
                return false;
            }

            return PutInService(fresh, identity.Value);
        }
        finally
        {
            _reloadGate.Release();
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        lock (_swapGate)
        {
            _disposed = true;
            Interlocked.Exchange(ref _current, null)?.Dispose();
        }

        _watcher?.Dispose();
        _timer.Dispose();
    }

    private CityDatabase OpenChecked()
    {
        var database = CityDatabase.Open(_path);
        try
        {
            if (_options.VerifyBeforeService)
            {
                database.Verify();
            }

            return database;
        }
        catch
        {
            database.Dispose();
            throw;
        }
    }

    private bool PutInService(CityDatabase database, FileIdentity identity)
    {
        CityDatabase? old;
        lock (_swapGate)
        {
            if (_disposed)
            {
                database.Dispose();
                return false;
            }

            old = Interlocked.Exchange(ref _current, database);
            _inService = identity;
            _rejected = null;
            Interlocked.Increment(ref _generation);
        }

        // Unmaps once the lookups still running on it end (see CityDatabase).
        old?.Dispose();
        Log.InService(_logger, _path, database.DatabaseType, database.BuildTime, old is not null);
        return true;
    }

    private FileSystemWatcher? Watch(string path)
    {
        var directory = System.IO.Path.GetDirectoryName(path)!;
        if (!Directory.Exists(directory))
        {
            Log.NotWatching(_logger, directory, "the directory does not exist");
            return null;
        }

        try
        {
            // No name filter: a rename over the file must be seen whatever the temporary file was called.
            var watcher = new FileSystemWatcher(directory)
            {
                IncludeSubdirectories = false,
                NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.CreationTime,
            };
            FileSystemEventHandler changed = (_, e) => OnDirectoryEvent(e.FullPath);
            watcher.Created += changed;
            watcher.Changed += changed;
            watcher.Renamed += (_, e) => OnDirectoryEvent(e.FullPath);
            watcher.Error += (_, e) =>
            {
                Log.NotWatching(_logger, directory, e.GetException().Message);
                RequestCheck();
            };
            watcher.EnableRaisingEvents = true;
            return watcher;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or PlatformNotSupportedException)
        {
            Log.NotWatching(_logger, directory, e.Message);
            return null;
        }
    }

    private void OnDirectoryEvent(string fullPath)
    {
        if (string.Equals(fullPath, _path, StringComparison.Ordinal))
        {
            RequestCheck();
        }
    }

    /// <summary>Runs one check in the background; a burst of events while it is pending costs one check.</summary>
    private void RequestCheck()
    {
        if (_disposed || Interlocked.Exchange(ref _checkRequested, 1) != 0)
        {
            return;
        }

        _ = Task.Run(async () =>
        {
            Volatile.Write(ref _checkRequested, 0);
            try
            {
                await CheckNowAsync();
            }
            catch (Exception e)
            {
                Log.CheckFailed(_logger, _path, e);
            }
        });
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "GeoIP database {Path} in service ({DatabaseType}, built {BuildTime:u}; replacement: {Replacement})")]
        public static partial void InService(ILogger logger, string path, string databaseType, DateTimeOffset buildTime, bool replacement);

        [LoggerMessage(2, LogLevel.Error, "GeoIP database {Path} was replaced by an unusable file; keeping the database in service: {Reason}")]
        public static partial void ReplacementRejected(ILogger logger, string path, string reason);

        [LoggerMessage(3, LogLevel.Warning, "GeoIP database {Path} does not exist (a database in service: {HasDatabase})")]
        public static partial void Missing(ILogger logger, string path, bool hasDatabase);

        [LoggerMessage(4, LogLevel.Warning, "Not watching {Directory} for GeoIP database updates ({Reason}); relying on periodic checks")]
        public static partial void NotWatching(ILogger logger, string directory, string reason);

        [LoggerMessage(5, LogLevel.Error, "Checking GeoIP database {Path} failed")]
        public static partial void CheckFailed(ILogger logger, string path, Exception exception);
    }
}
