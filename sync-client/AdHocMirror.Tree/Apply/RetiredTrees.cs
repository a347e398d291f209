using System.Diagnostics;
using AdHocMirror.Tree.Native;

namespace AdHocMirror.Tree.Apply;

/// <summary>
/// Trees that are no longer the repository (the old tree after a swap, crash leftovers): first renamed to
/// <c>.NAME.ahm-retired-*</c> (one rename, so a retired tree has a name that recovery never moves into place), then
/// removed, either at once or by a detached, low-priority <c>rm -rf</c> that outlives ahm-sync. Removing 150,000 names
/// takes seconds the user need not wait for; a removal that is interrupted (kill, reboot) is simply started again by the
/// next <see cref="TreeSwap.Recover(string, StagingOptions?)"/>.
/// </summary>
internal static class RetiredTrees
{
    internal const string Marker = ".ahm-retired-";

    /// <summary>
    /// Renames <paramref name="path"/> (a sibling of <paramref name="repository"/>) to a fresh retired name, after moving
    /// the machine's own data (<see cref="LocalData"/>) it may hold into the repository.
    /// </summary>
    public static string Retire(string repository, string path)
    {
        if (IsRetired(repository, path))
        {
            return path;
        }

        if (TreeSwap.IsPlainDirectory(path))
        {
            LocalData.MoveInto(path, repository);
        }

        var retired = TreeSwap.Sibling(repository, Marker + Guid.NewGuid().ToString("N")[..12]);
        LinuxRename.Rename(path, retired);
        return retired;
    }

    public static bool IsRetired(string repository, string path) =>
        Path.GetFileName(path).StartsWith("." + Path.GetFileName(repository) + Marker, StringComparison.Ordinal);

    /// <summary>Removes a retired tree now, or starts its removal in the background (falling back to now when that cannot start).</summary>
    public static void Remove(string retired, bool background)
    {
        if (background && Directory.Exists(retired) && StartRemoval(retired))
        {
            return;
        }

        TreeSwap.DeleteTree(retired);
    }

    /// <summary>
    /// <c>rm -rf --one-file-system</c> at idle I/O priority and lowest CPU priority, in its own session, with stdio on
    /// /dev/null (so that nothing waiting for our output waits for it), holding none of our descriptors (no lock). Not a
    /// guarded child: it is meant to outlive us.
    /// </summary>
    private static bool StartRemoval(string retired)
    {
        const string Script =
            "exec </dev/null >/dev/null 2>&1; set -- rm -rf --one-file-system -- \"$1\"; " +
            "if command -v ionice >/dev/null; then set -- ionice -c 3 \"$@\"; fi; " +
            "if command -v setsid >/dev/null; then set -- setsid \"$@\"; fi; exec nice -n 19 \"$@\"";
        try
        {
            using var removal = Process.Start(new ProcessStartInfo("/bin/sh", ["-c", Script, "ahm-remove-retired", retired])
            {
                UseShellExecute = false,
                WorkingDirectory = "/",
            });
            return removal is not null;
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or IOException or InvalidOperationException)
        {
            return false;
        }
    }
}
