namespace AdHocMirror.Sync.Apply;

/// <summary>
/// flock on <c>.NAME.sync-lock</c> beside the repository for the whole run (version read, discovery, every candidate),
/// so two ahm-sync runs of one repository never overlap. Separate from the Tree library's <c>.ahm-lock</c>, which a
/// staging area takes for each attempt (a second flock on that file from this process would conflict with it).
/// The kernel drops it when the process dies, so a kill -9 never leaves a stale lock.
/// </summary>
public sealed class SyncLock : IDisposable
{
    private readonly FileStream _stream;

    private SyncLock(FileStream stream, string path)
    {
        _stream = stream;
        Path = path;
    }

    public string Path { get; }

    public static string PathFor(string repository) =>
        System.IO.Path.Combine(System.IO.Path.GetDirectoryName(repository)!, "." + System.IO.Path.GetFileName(repository) + ".sync-lock");

    /// <summary>The ledger of this run's children (<see cref="AdHocMirror.Tree.Processes.ChildLedger"/>), opened only under the lock.</summary>
    public static string ChildLedgerPathFor(string repository) =>
        System.IO.Path.Combine(System.IO.Path.GetDirectoryName(repository)!, "." + System.IO.Path.GetFileName(repository) + ".sync-children");

    /// <summary>Null when another process holds it.</summary>
    public static SyncLock? TryAcquire(string repository)
    {
        var path = PathFor(repository);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        try
        {
            return new SyncLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None), path);
        }
        catch (IOException) when (File.Exists(path))
        {
            return null;
        }
    }

    public void Dispose() => _stream.Dispose();
}
