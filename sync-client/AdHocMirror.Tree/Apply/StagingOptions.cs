namespace AdHocMirror.Tree.Apply;

/// <summary>Options for <see cref="StagingArea"/>.</summary>
public sealed class StagingOptions
{
    /// <summary>Keep a staging directory that was not committed (for inspection) instead of removing it.</summary>
    public bool KeepFailedStaging { get; set; }

    /// <summary>Skip renameat2(RENAME_EXCHANGE) and use the two-rename fallback (for filesystems without it; tests).</summary>
    public bool ForceRenameFallback { get; set; }

    /// <summary>
    /// Remove the old tree (and crash leftovers) with a detached low-priority <c>rm -rf</c> after it has been retired,
    /// instead of before <see cref="StagingArea.Commit"/> returns (ahm-sync: the command exits as soon as the new tree is
    /// in place), and with <see cref="KeepSpare"/> relink the spare to the new tree after the command has ended too. Off by default.
    /// </summary>
    public bool RemoveInBackground { get; set; }

    /// <summary>
    /// rsync trees: keep the old tree after a swap as the spare (<c>.NAME.ahm-spare</c>) instead of removing it, and
    /// start the next staging directory from it, so that rsync updates a nearly current tree in place of building
    /// ~150,000 hard links. Safe because verification never trusts the spare's content (see the README). Off by default
    /// (git, the daemon); recovery without it retires a spare like any other leftover.
    /// </summary>
    public bool KeepSpare { get; set; }

    /// <summary>
    /// How long to wait for the repository lock (<c>.NAME.ahm-lock</c>) before reporting the repository as being updated
    /// by another process: the detached shells that finish the spare hold it for one rename at a time.
    /// </summary>
    public TimeSpan LockWait { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Test hook: called after each step of a commit with the step's name, to stop there as a crash would.</summary>
    internal Action<string>? AfterStep { get; set; }
}
