using AdHocMirror.Tree.Manifests;
using AdHocMirror.Tree.Native;

namespace AdHocMirror.Tree.Apply;

/// <summary>
/// A staging directory beside a repository (same filesystem, so the swap is a rename): sync into <see cref="Path"/>
/// with rsync <c>--link-dest=</c><see cref="LinkDest"/> (hard links to the current tree, as portage's quarantine does;
/// with <see cref="StagingOptions.KeepSpare"/> the directory is the spare, the tree replaced by the last sync, so rsync
/// updates it instead of linking every file),
/// verify it, then <see cref="Commit"/> to swap it into place atomically. Disposing without committing leaves the
/// repository untouched and removes the staging directory, or keeps it when <see cref="StagingOptions.KeepFailedStaging"/>.
/// Holds the repository lock for its lifetime.
/// </summary>
public sealed class StagingArea : IDisposable
{
    private readonly StagingOptions _options;
    private readonly FileStream _lock;
    private bool _done;

    private StagingArea(string repository, string path, StagingOptions options, FileStream held, bool fromSpare)
    {
        Repository = repository;
        Path = path;
        _options = options;
        _lock = held;
        FromSpare = fromSpare;
    }

    /// <summary>The repository this staging area will replace.</summary>
    public string Repository { get; }

    /// <summary>The staging directory to sync into.</summary>
    public string Path { get; }

    /// <summary>True when <see cref="Path"/> is the spare (the tree before the current one), for rsync to update in place of an empty dir.</summary>
    public bool FromSpare { get; }

    /// <summary>The tree in place (the reference for verification's skip-unchanged rule), or null when there is none yet.</summary>
    public string? Installed => Directory.Exists(Repository) ? Repository : null;

    /// <summary>
    /// The current tree for rsync <c>--link-dest</c>, or null when there is none yet or when staging is the spare: a
    /// spare is kept a hard-link clone of the current tree, so rsync updates it as it would update the tree in place,
    /// and looking every file up in the current tree as well would only cost time.
    /// </summary>
    public string? LinkDest => FromSpare ? null : Installed;

    /// <summary>
    /// Takes the repository lock, repairs any crash leftovers, and creates the staging directory: the spare renamed to a
    /// staging name when <see cref="StagingOptions.KeepSpare"/> and there is one, else an empty directory.
    /// </summary>
    public static StagingArea Create(string repository, StagingOptions? options = null)
    {
        repository = System.IO.Path.GetFullPath(repository.TrimEnd('/'));
        options ??= new StagingOptions();
        TreeSwap.WaitForSpareRefreshes(repository, options);
        var held = RepositoryLock.Acquire(repository, options.LockWait);
        try
        {
            TreeSwap.RecoverLocked(repository, options);
            var path = TreeSwap.Sibling(repository, TreeSwap.StagingMarker + Guid.NewGuid().ToString("N")[..12]);
            var fromSpare = options.KeepSpare && TreeSwap.TryTakeSpare(repository, path);
            if (!fromSpare)
            {
                Directory.CreateDirectory(path);
            }

            return new StagingArea(repository, path, options, held, fromSpare);
        }
        catch
        {
            held.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Swaps the (verified!) staging directory into place atomically, then retires and removes the old tree, or with
    /// <see cref="StagingOptions.KeepSpare"/> makes it the spare: relinked to the new tree where
    /// <paramref name="delta"/> (from verification) says it differs, or, when there was no old tree, cloned from the
    /// new one in the background. With <see cref="StagingOptions.RemoveInBackground"/> the relinking is detached too
    /// (<see cref="SpareTree.StartRefreshing"/>): the new tree is in place and verified when this returns.
    /// </summary>
    public void Commit(TreeDelta? delta = null)
    {
        ObjectDisposedException.ThrowIf(_done, this);
        TreeSwap.Commit(Path, Repository, _options);
        _done = true;
        try
        {
            var spare = TreeSwap.Sibling(Repository, TreeSwap.SpareSuffix);
            if (_options.KeepSpare && !Directory.Exists(spare))
            {
                SpareTree.StartCloning(Repository);
            }
            else if (_options.KeepSpare && delta is not null && !(_options.RemoveInBackground && SpareTree.StartRefreshing(spare, Repository, delta)))
            {
                SpareTree.Refresh(spare, Repository, delta);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The new tree is in place; a spare left half refreshed only costs the next rsync more work.
        }
        finally
        {
            _lock.Dispose();
        }
    }

    /// <summary>
    /// Ends a staging area that verified as the very tree in place (already up to date): with
    /// <see cref="StagingOptions.KeepSpare"/> it becomes the spare again instead of being removed; else as <see cref="Dispose"/>.
    /// </summary>
    public void KeepAsSpare()
    {
        // A spare already there (the detached shells only rename one in under the lock we hold, so none of ours) is
        // kept, and this staging directory is removed like any other.
        if (!_done && _options.KeepSpare && Directory.Exists(Repository) && LinuxRename.TryMoveNoReplace(Path, TreeSwap.Sibling(Repository, TreeSwap.SpareSuffix)))
        {
            _done = true;
        }

        Dispose();
    }

    public void Dispose()
    {
        if (!_done)
        {
            _done = true;
            if (!_options.KeepFailedStaging)
            {
                if (_options.RemoveInBackground && Directory.Exists(Path))
                {
                    RetiredTrees.Remove(RetiredTrees.Retire(Repository, Path), background: true);
                }
                else
                {
                    TreeSwap.DeleteTree(Path);
                }
            }
        }

        _lock.Dispose();
    }
}
