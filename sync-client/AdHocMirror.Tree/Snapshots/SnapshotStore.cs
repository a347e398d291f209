using System.Globalization;
using AdHocMirror.Tree.Native;
using AdHocMirror.Tree.Versions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AdHocMirror.Tree.Snapshots;

/// <summary>
/// A mirror's immutable snapshots behind the symlink <c>ROOT/current</c> (point rsync's module path and git at it).
/// Sync into <see cref="BeginIncoming"/>, verify, then <see cref="Publish"/>: the directory moves to
/// <c>snapshots/ID</c> and <c>current</c> is replaced with rename(2), so a new connection resolves the newest
/// snapshot while a running one keeps the directory it already entered.
/// </summary>
/// <remarks>
/// Removal rule (<see cref="Prune"/>): a snapshot is removed only when it is not current, has been retired for at least
/// <see cref="SnapshotStoreOptions.RetireGrace"/>, is not among the <see cref="SnapshotStoreOptions.KeepRetired"/>
/// newest retired ones, and no process has its working directory or root inside it (/proc). A transfer always works
/// inside the directory it entered, so no transfer can still use a removed snapshot.
/// </remarks>
public sealed partial class SnapshotStore
{
    private const string CurrentLink = "current";
    private readonly SnapshotStoreOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly HashSet<string> _activeIncoming = new(StringComparer.Ordinal);

    public SnapshotStore(SnapshotStoreOptions options, TimeProvider time, ILogger<SnapshotStore>? logger = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(options?.Root);
        _options = options;
        _time = time;
        _logger = logger ?? (ILogger)NullLogger.Instance;
        Root = Path.GetFullPath(options.Root);
        Directory.CreateDirectory(SnapshotsDir);
        Directory.CreateDirectory(IncomingDir);
        Directory.CreateDirectory(MetaDir);
    }

    public string Root { get; }

    /// <summary>The symlink to the newest verified snapshot: the path to serve.</summary>
    public string CurrentPath => Path.Combine(Root, CurrentLink);

    private string SnapshotsDir => Path.Combine(Root, "snapshots");

    private string IncomingDir => Path.Combine(Root, "incoming");

    private string MetaDir => Path.Combine(Root, "meta");

    /// <summary>The snapshot being served, or null before the first publish.</summary>
    public Snapshot? Current
    {
        get
        {
            var target = new FileInfo(CurrentPath).LinkTarget;
            return target is null ? null : Load(Path.GetFileName(target));
        }
    }

    /// <summary>All published snapshots still on disk, oldest first.</summary>
    public IReadOnlyList<Snapshot> List() =>
        [.. Directory.EnumerateDirectories(SnapshotsDir).Select(d => Load(Path.GetFileName(d))).OfType<Snapshot>().OrderBy(s => s.Version).ThenBy(s => s.PublishedAt).ThenBy(s => s.Id, StringComparer.Ordinal)];

    /// <summary>A new empty directory to sync into; <see cref="IncomingSnapshot.LinkDest"/> is the current snapshot for rsync --link-dest.</summary>
    public IncomingSnapshot BeginIncoming()
    {
        var id = NewId();
        var path = Path.Combine(IncomingDir, id);
        Directory.CreateDirectory(path);
        lock (_gate)
        {
            _activeIncoming.Add(id);
        }

        return new IncomingSnapshot(id, path, Current?.Path);
    }

    /// <summary>Drops an incoming directory that failed to sync or verify.</summary>
    public void Discard(IncomingSnapshot incoming)
    {
        ArgumentNullException.ThrowIfNull(incoming);
        lock (_gate)
        {
            _activeIncoming.Remove(incoming.Id);
        }

        if (Directory.Exists(incoming.Path))
        {
            Directory.Delete(incoming.Path, recursive: true);
        }
    }

    /// <summary>
    /// Publishes a verified incoming directory as the current snapshot. Refuses a version older than the current one
    /// (the rollback rule); the incoming directory is then left for <see cref="Discard"/>.
    /// </summary>
    public Snapshot Publish(IncomingSnapshot incoming, TreeVersion verifiedVersion)
    {
        ArgumentNullException.ThrowIfNull(incoming);
        var previous = Current;
        var verdict = RollbackGuard.Check(verifiedVersion, previous?.Version, promised: null);
        if (!verdict.Accepted)
        {
            throw new InvalidOperationException(verdict.Reason);
        }

        var now = _time.GetUtcNow();
        var path = Path.Combine(SnapshotsDir, incoming.Id);
        WriteMeta(incoming.Id, verifiedVersion, now, retiredAt: null);
        LinuxRename.Rename(incoming.Path, path);
        lock (_gate)
        {
            _activeIncoming.Remove(incoming.Id);
        }

        // Readers follow either the old link or the new one, never a missing one: rename(2) replaces it atomically.
        var temporary = Path.Combine(Root, ".current-" + incoming.Id);
        File.Delete(temporary);
        File.CreateSymbolicLink(temporary, Path.Combine("snapshots", incoming.Id));
        LinuxRename.Rename(temporary, CurrentPath);
        if (previous is not null)
        {
            WriteMeta(previous.Id, previous.Version, previous.PublishedAt, now);
        }

        Log.Published(_logger, incoming.Id, verifiedVersion.ToString());
        return new Snapshot(incoming.Id, path, verifiedVersion, now);
    }

    /// <summary>Removes snapshots no transfer can still use (see the remarks) and stale incoming dirs; returns how many snapshots went.</summary>
    public int Prune()
    {
        var current = Current?.Id;
        var now = _time.GetUtcNow();
        var retired = Directory.EnumerateDirectories(SnapshotsDir)
            .Select(d => (Id: Path.GetFileName(d), Meta: ReadMeta(Path.GetFileName(d))))
            .Where(s => s.Id != current)
            .OrderByDescending(s => s.Meta?.RetiredAt ?? DateTimeOffset.MinValue)
            .ToList();
        var removed = 0;
        foreach (var (id, meta) in retired.Skip(Math.Max(0, _options.KeepRetired)))
        {
            var path = Path.Combine(SnapshotsDir, id);
            var retiredAt = meta?.RetiredAt ?? meta?.PublishedAt ?? DateTimeOffset.MinValue;
            if (now - retiredAt < _options.RetireGrace || ProcessDirectories.AnyInside(path))
            {
                continue;
            }

            // Move out of snapshots/ first so a half-deleted snapshot is never listed or served.
            var doomed = Path.Combine(IncomingDir, ".deleting-" + id);
            LinuxRename.Rename(path, doomed);
            Directory.Delete(doomed, recursive: true);
            File.Delete(MetaPath(id));
            removed++;
            Log.Removed(_logger, id);
        }

        foreach (var dir in Directory.EnumerateDirectories(IncomingDir))
        {
            var id = Path.GetFileName(dir);
            bool active;
            lock (_gate)
            {
                active = _activeIncoming.Contains(id);
            }

            if (!active)
            {
                Directory.Delete(dir, recursive: true);
                File.Delete(MetaPath(id));
            }
        }

        return removed;
    }

    private Snapshot? Load(string id)
    {
        var meta = ReadMeta(id);
        return meta is null ? null : new Snapshot(id, Path.Combine(SnapshotsDir, id), meta.Version, meta.PublishedAt);
    }

    private string NewId() => _time.GetUtcNow().UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'-", CultureInfo.InvariantCulture) + Guid.NewGuid().ToString("N")[..8];

    private string MetaPath(string id) => Path.Combine(MetaDir, id);

    private sealed record Meta(TreeVersion Version, DateTimeOffset PublishedAt, DateTimeOffset? RetiredAt);

    private void WriteMeta(string id, TreeVersion version, DateTimeOffset publishedAt, DateTimeOffset? retiredAt)
    {
        // Metadata lives outside the served directory, written by rename so it is never half-written.
        var lines = $"generated={version.Generated.ToUnixTimeSeconds()}\ncommit={version.Commit}\npublished={publishedAt.ToUnixTimeMilliseconds()}\nretired={retiredAt?.ToUnixTimeMilliseconds()}\n";
        var temporary = MetaPath(id) + ".tmp";
        File.WriteAllText(temporary, lines);
        LinuxRename.Rename(temporary, MetaPath(id));
    }

    private Meta? ReadMeta(string id)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(MetaPath(id));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        var values = lines.Select(l => l.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);
        static long? Number(Dictionary<string, string> v, string key) =>
            v.TryGetValue(key, out var s) && long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) ? n : null;
        if (Number(values, "generated") is not { } generated || Number(values, "published") is not { } published)
        {
            return null;
        }

        var retired = Number(values, "retired");
        return new Meta(
            new TreeVersion(DateTimeOffset.FromUnixTimeSeconds(generated), values.GetValueOrDefault("commit")),
            DateTimeOffset.FromUnixTimeMilliseconds(published),
            retired is { } r ? DateTimeOffset.FromUnixTimeMilliseconds(r) : null);
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Published snapshot {Id} ({Version})")]
        public static partial void Published(ILogger logger, string id, string version);

        [LoggerMessage(2, LogLevel.Information, "Removed snapshot {Id}")]
        public static partial void Removed(ILogger logger, string id);
    }
}
