namespace AdHocMirror.Tree.Apply;

/// <summary>
/// A staging directory beside a repository (same filesystem, so the swap is a rename): sync into <see cref="Path"/>
/// with rsync <c>--link-dest=</c><see cref="LinkDest"/> (hard links to the current tree, as portage's quarantine does),
/// verify it, then <see cref="Commit"/> to swap it into place atomically. Disposing without committing leaves the
/// repository untouched and removes the staging directory, or keeps it when <see cref="StagingOptions.KeepFailedStaging"/>.
/// Holds the repository lock for its lifetime.
/// </summary>
public sealed class StagingArea : IDisposable
{
    private readonly StagingOptions _options;
    private readonly FileStream _lock;
    private bool _done;

    private StagingArea(string repository, string path, StagingOptions options, FileStream held)
    {
        Repository = repository;
        Path = path;
        _options = options;
        _lock = held;
    }

    /// <summary>The repository this staging area will replace.</summary>
    public string Repository { get; }

    /// <summary>The staging directory to sync into.</summary>
    public string Path { get; }

    /// <summary>The current tree for rsync <c>--link-dest</c>, or null when there is none yet.</summary>
    public string? LinkDest => Directory.Exists(Repository) ? Repository : null;

    /// <summary>Takes the repository lock, repairs any crash leftovers, and creates an empty staging directory.</summary>
    public static StagingArea Create(string repository, StagingOptions? options = null)
    {
        repository = System.IO.Path.GetFullPath(repository.TrimEnd('/'));
        var held = RepositoryLock.Acquire(repository);
        try
        {
            TreeSwap.RecoverLocked(repository, options ?? new StagingOptions());
            var path = TreeSwap.Sibling(repository, TreeSwap.StagingMarker + Guid.NewGuid().ToString("N")[..12]);
            Directory.CreateDirectory(path);
            return new StagingArea(repository, path, options ?? new StagingOptions(), held);
        }
        catch
        {
            held.Dispose();
            throw;
        }
    }

    /// <summary>Swaps the (verified!) staging directory into place atomically, then retires and removes the old tree.</summary>
    public void Commit()
    {
        ObjectDisposedException.ThrowIf(_done, this);
        TreeSwap.Commit(Path, Repository, _options);
        _done = true;
        _lock.Dispose();
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
