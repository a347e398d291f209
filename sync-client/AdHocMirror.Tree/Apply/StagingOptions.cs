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
    /// in place). Off by default.
    /// </summary>
    public bool RemoveInBackground { get; set; }

    /// <summary>Test hook: called after each step of a commit with the step's name, to stop there as a crash would.</summary>
    internal Action<string>? AfterStep { get; set; }
}
