using AdHocMirror.Tree.Native;

namespace AdHocMirror.Tree.Apply;

/// <summary>
/// Puts a verified staging directory in the place of a repository atomically, and repairs what a crash left behind.
/// Every change to the repository path is one rename syscall, so a crash (kill -9, power loss) at any instant leaves
/// the repository path holding either the old tree or the new verified tree; leftovers are siblings named
/// <c>.NAME.ahm-*</c> that <see cref="Recover"/> resolves.
/// </summary>
/// <remarks>
/// Primary path: renameat2(RENAME_EXCHANGE) swaps the staging dir and the repo dir in one step; the old tree, now at
/// the staging path, is then retired (renamed to <c>.NAME.ahm-retired-*</c>) and removed. Fallback (filesystems without
/// RENAME_EXCHANGE): rename staging to <c>.NAME.ahm-verified</c> (its name now says "complete and verified"), rename the
/// repo to <c>.NAME.ahm-previous</c>, rename <c>.ahm-verified</c> to the repo, retire and remove <c>.ahm-previous</c>.
/// Recovery rule: if the repo path is missing, <c>.ahm-verified</c> is moved in if present, else <c>.ahm-previous</c>
/// is moved back; then every other <c>.NAME.ahm-*</c> sibling (staging dirs, old trees) is retired and removed, except
/// the spare <c>.NAME.ahm-spare</c> when <see cref="StagingOptions.KeepSpare"/>. A retired tree or a spare is never
/// moved into place. Removal is synchronous unless <see cref="StagingOptions.RemoveInBackground"/>. The machine's own
/// data under the repository (<see cref="LocalData"/>) moves from the old tree into the new one right after the swap,
/// and is moved into the repository from any tree about to be retired, so a crash in between loses none of it.
/// </remarks>
public static class TreeSwap
{
    internal const string StagingMarker = ".ahm-staging-";
    internal const string VerifiedSuffix = ".ahm-verified";
    internal const string PreviousSuffix = ".ahm-previous";
    internal const string LockSuffix = ".ahm-lock";
    internal const string SpareSuffix = ".ahm-spare";

    internal static string Sibling(string repository, string suffix) =>
        Path.Combine(Path.GetDirectoryName(repository)!, "." + Path.GetFileName(repository) + suffix);

    internal static void Commit(string staging, string repository, StagingOptions options)
    {
        var step = options.AfterStep ?? (_ => { });
        if (!Directory.Exists(repository) && !File.Exists(repository))
        {
            LinuxRename.Rename(staging, repository);
            step("installed");
            DeleteTree(staging);
            return;
        }

        if (!options.ForceRenameFallback && LinuxRename.TryExchange(staging, repository))
        {
            step("exchanged");
            LocalData.MoveInto(staging, repository);
            step("carried-local");
            SetAside(repository, staging, options);
            step("deleted-old");
            return;
        }

        var verified = Sibling(repository, VerifiedSuffix);
        var previous = Sibling(repository, PreviousSuffix);
        DeleteTree(verified);
        DeleteTree(previous);
        LinuxRename.Rename(staging, verified);
        step("marked-verified");
        LinuxRename.Rename(repository, previous);
        step("moved-old-aside");
        LinuxRename.Rename(verified, repository);
        step("installed");
        LocalData.MoveInto(previous, repository);
        step("carried-local");
        SetAside(repository, previous, options);
        step("deleted-old");
    }

    /// <summary>The old tree, once replaced: kept as the spare (<see cref="StagingOptions.KeepSpare"/>), else retired and removed.</summary>
    private static void SetAside(string repository, string old, StagingOptions options)
    {
        if (!options.KeepSpare)
        {
            RetiredTrees.Remove(RetiredTrees.Retire(repository, old), options.RemoveInBackground);
            return;
        }

        // One rename; an older spare (none, normally: StagingArea.Create consumed it) is retired first because a
        // rename does not replace a non-empty directory. A crash before the rename leaves the old tree under its
        // staging or .ahm-previous name, which recovery retires: the next sync then starts from scratch.
        var spare = Sibling(repository, SpareSuffix);
        if (Path.Exists(spare))
        {
            RetiredTrees.Remove(RetiredTrees.Retire(repository, spare), options.RemoveInBackground);
        }

        // Never over a spare that appeared meanwhile (none of ours can: see SpareTree); the old tree is then retired.
        if (!LinuxRename.TryMoveNoReplace(old, spare))
        {
            RetiredTrees.Remove(RetiredTrees.Retire(repository, old), options.RemoveInBackground);
        }
    }

    /// <summary>Takes the spare for a new staging directory at <paramref name="staging"/> (one rename); false when there is none.</summary>
    internal static bool TryTakeSpare(string repository, string staging)
    {
        var spare = Sibling(repository, SpareSuffix);
        if (!IsPlainDirectory(spare))
        {
            return false;
        }

        LinuxRename.Rename(spare, staging);
        return true;
    }

    /// <summary>A directory itself, not a symlink to one.</summary>
    internal static bool IsPlainDirectory(string path) =>
        Directory.Exists(path) && (File.GetAttributes(path) & FileAttributes.ReparsePoint) == 0;

    /// <summary>
    /// Repairs the repository after a crash (see the remarks). Call it, holding no staging area, before reading the
    /// repository; <see cref="StagingArea.Create"/> calls it itself.
    /// </summary>
    public static void Recover(string repository, StagingOptions? options = null)
    {
        repository = Path.GetFullPath(repository.TrimEnd('/'));
        options ??= new StagingOptions();
        WaitForSpareRefreshes(repository, options);
        using var held = RepositoryLock.Acquire(repository, options.LockWait);
        RecoverLocked(repository, options);
    }

    /// <summary>
    /// An earlier sync's detached refresh of the spare is let finish (a fraction of a second, normally) rather than
    /// retired by recovery with the spare it is about to give back. Before the lock, not under it: the refresh takes the
    /// lock to give the spare back.
    /// </summary>
    internal static void WaitForSpareRefreshes(string repository, StagingOptions options)
    {
        if (options.KeepSpare)
        {
            SpareTree.WaitForRefreshes(repository, TimeSpan.FromSeconds(30));
        }
    }

    internal static void RecoverLocked(string repository, StagingOptions options)
    {
        var verified = Sibling(repository, VerifiedSuffix);
        var previous = Sibling(repository, PreviousSuffix);
        if (!Directory.Exists(repository))
        {
            if (Directory.Exists(verified))
            {
                LinuxRename.Rename(verified, repository);
            }
            else if (Directory.Exists(previous))
            {
                LinuxRename.Rename(previous, repository);
            }
        }

        var parent = Path.GetDirectoryName(repository)!;
        if (!Directory.Exists(parent))
        {
            return;
        }

        var prefix = "." + Path.GetFileName(repository) + ".ahm-";
        foreach (var leftover in Directory.GetFileSystemEntries(parent, prefix + "*"))
        {
            if (leftover.EndsWith(LockSuffix, StringComparison.Ordinal))
            {
                continue;
            }

            // The spare stays (it is only ever renamed to a staging name, never to the repository). An interrupted
            // staging dir made from it is a staging dir like any other: retired below.
            if (options.KeepSpare && leftover == Sibling(repository, SpareSuffix) && IsPlainDirectory(leftover))
            {
                continue;
            }

            if (options.KeepSpare && SpareTree.IsRunningRefresh(repository, leftover))
            {
                continue;
            }

            try
            {
                if (!IsPlainDirectory(leftover))
                {
                    DeleteTree(leftover);
                    continue;
                }

                // A retired tree may still be being removed by an earlier run's background removal; a second rm -rf
                // beside it is harmless (each ignores what the other already removed).
                RetiredTrees.Remove(RetiredTrees.Retire(repository, leftover), options.RemoveInBackground);
            }
            catch (IOException) when (!Path.Exists(leftover))
            {
                // That background removal has just finished.
            }
        }
    }

    internal static void DeleteTree(string path) =>
        // Nothing reads these paths and Recover finishes an interrupted delete. A background removal of the same retired
        // tree may run beside this one, so entries vanishing underneath are expected.
        TreeRemoval.Remove(path);
}
