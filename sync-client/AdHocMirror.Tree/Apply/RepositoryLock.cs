using System.Diagnostics;

namespace AdHocMirror.Tree.Apply;

/// <summary>
/// An exclusive advisory lock (flock) on <c>.NAME.ahm-lock</c> beside the repository, so that two syncs, or a sync and
/// a recovery, never work on the same repository at once. The kernel drops it when the process dies. The detached
/// shells that finish the spare (<see cref="SpareTree"/>) take it too, with <c>flock(1)</c>, for the renames that
/// take or give back the spare: so the spare's name never changes under a sync that holds it.
/// </summary>
internal static class RepositoryLock
{
    /// <summary>The lock file, <c>.NAME.ahm-lock</c>: the same for this process and for the detached shells' <c>flock</c>.</summary>
    public static string PathFor(string repository) => TreeSwap.Sibling(repository, TreeSwap.LockSuffix);

    /// <summary>
    /// Takes the lock, waiting up to <paramref name="wait"/> while another holder has it (a detached shell holds it
    /// for one rename); an <see cref="IOException"/> naming the lock file when it is still held after that.
    /// </summary>
    public static FileStream Acquire(string repository, TimeSpan wait)
    {
        var path = PathFor(repository);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var waited = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException e) when (waited.Elapsed >= wait)
            {
                throw new IOException($"{repository} is being updated by another process ({path} is locked)", e);
            }
            catch (IOException)
            {
                // .NET takes flock with LOCK_NB and offers no timed wait; the holders hold it for milliseconds.
                Thread.Sleep(10);
            }
        }
    }
}
