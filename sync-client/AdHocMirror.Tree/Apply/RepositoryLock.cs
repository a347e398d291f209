namespace AdHocMirror.Tree.Apply;

/// <summary>
/// An exclusive advisory lock (flock) on <c>.NAME.ahm-lock</c> beside the repository, so that two syncs, or a sync and
/// a recovery, never work on the same repository at once. The kernel drops it when the process dies.
/// </summary>
internal static class RepositoryLock
{
    public static FileStream Acquire(string repository)
    {
        var path = TreeSwap.Sibling(repository, TreeSwap.LockSuffix);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        try
        {
            return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            throw new IOException($"{repository} is being updated by another process ({path} is locked)", e);
        }
    }
}
