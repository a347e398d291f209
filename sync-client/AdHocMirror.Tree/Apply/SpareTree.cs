using System.Diagnostics;
using System.Runtime.InteropServices;
using AdHocMirror.Tree.Manifests;
using AdHocMirror.Tree.Native;

namespace AdHocMirror.Tree.Apply;

/// <summary>
/// Keeps the spare a hard-link clone of the tree in place, so that the next sync's rsync updates it exactly as a bare
/// in-place rsync updates the repository: the same quick checks, the same deltas, no <c>--link-dest</c> lookups. After a
/// swap the spare is the tree just replaced; <see cref="Refresh"/> relinks the few hundred names verification found
/// different (<see cref="TreeDelta"/>). When there is no spare (after a first install), <see cref="StartCloning"/>
/// builds one with a detached, idle-priority <c>cp -al</c> after the command has ended.
/// </summary>
/// <remarks>
/// Nothing here is trusted: verification judges every staged file by its own inode, whatever the spare held. A refresh
/// or clone that is interrupted only leaves a spare that costs rsync more work.
/// </remarks>
internal static class SpareTree
{
    internal const string CloningMarker = ".ahm-cloning-";
    internal const string RefreshingMarker = ".ahm-refreshing-";
    private const string RefreshName = "ahm-refresh-spare";

    /// <summary>
    /// Starts <see cref="Refresh"/>'s work detached, after the command has ended (it is a few hundred metadata writes,
    /// 0.2–0.3 s inside the swap on a loaded disk): a shell takes the spare under the name
    /// <c>.NAME.ahm-refreshing-PID</c> (one rename; a sync that took the spare first leaves it nothing to do), applies
    /// <paramref name="delta"/> there with <c>rm</c>, <c>mkdir</c> and <c>cp -l</c>, and renames it back to the spare;
    /// both renames under the repository lock (<c>flock -w 30</c>; without it the refresh gives up, or drops its tree).
    /// A sync meanwhile waits for it (<see cref="WaitForRefreshes"/>); recovery retires one whose shell is gone. False
    /// when it could not start: the caller then refreshes in place.
    /// </summary>
    public static bool StartRefreshing(string spare, string repository, TreeDelta delta)
    {
        const string Script =
            "exec </dev/null >/dev/null 2>&1; renice -n 19 -p $$; " +
            "spare=$1 repo=$2 lists=$3 here=$4$$ lock=$5; " +
            "if flock -w 30 \"$lock\" mv -T -- \"$spare\" \"$here\"; then " +
            "(cd \"$here\" && xargs -0 -r rm -rf --one-file-system -- < \"$lists/remove\"; " +
            "cd \"$here\" && xargs -0 -r mkdir -p -- < \"$lists/create\"; " +
            "cd \"$repo\" && xargs -0 -r cp -P -l --remove-destination --parents -t \"$here\" -- < \"$lists/link\"); " +
            "flock -w 30 \"$lock\" mv -T -- \"$here\" \"$spare\" || rm -rf --one-file-system -- \"$here\"; fi; " +
            "rm -rf -- \"$lists\"";

        // Paths go to xargs NUL-separated and prefixed with ./ so that no name reads as an option.
        static string Relative(string directory, string name) => "./" + (directory.Length == 0 ? name : directory + "/" + name);
        var lists = TreeSwap.Sibling(repository, ".ahm-refresh-lists-" + Guid.NewGuid().ToString("N")[..12]);
        void Write(string list, Func<DirectoryDelta, IReadOnlyList<string>> names) =>
            File.WriteAllText(Path.Combine(lists, list), string.Concat(delta.Directories.SelectMany(d => names(d).Select(n => Relative(d.Directory, n) + "\0"))));

        try
        {
            Directory.CreateDirectory(lists);
            Write("remove", d => d.Remove);
            Write("create", d => d.Create);
            Write("link", d => d.Link);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TreeSwap.DeleteTree(lists);
            return false;
        }

        if (!StartDetached(Script, RefreshName, spare, repository, lists, TreeSwap.Sibling(repository, RefreshingMarker), RepositoryLock.PathFor(repository)))
        {
            TreeSwap.DeleteTree(lists);
            return false;
        }

        return true;
    }

    /// <summary>
    /// Waits (at most <paramref name="limit"/>) until no refresh started by an earlier sync is still running on this
    /// repository's spare, so that recovery does not retire a spare seconds from ready. A refreshing tree whose shell is
    /// gone (killed, rebooted) is not waited for: recovery retires it like any leftover.
    /// </summary>
    public static void WaitForRefreshes(string repository, TimeSpan limit)
    {
        var parent = Path.GetDirectoryName(repository)!;
        var pattern = Path.GetFileName(TreeSwap.Sibling(repository, RefreshingMarker)) + "*";
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < limit && Directory.Exists(parent)
            && Directory.EnumerateDirectories(parent, pattern).Any(d => IsRunningRefresh(repository, d)))
        {
            Thread.Sleep(20);
        }
    }

    /// <summary>
    /// True when <paramref name="path"/> is the spare under a refresh whose shell still runs: one that took the spare
    /// after <see cref="WaitForRefreshes"/> looked. Recovery leaves it; the refresh gives it back, or drops it when the
    /// sync has made a spare of its own by then (the give-back waits for the repository lock).
    /// </summary>
    public static bool IsRunningRefresh(string repository, string path)
    {
        var prefix = "." + Path.GetFileName(repository) + RefreshingMarker;
        var name = Path.GetFileName(path);
        return name.StartsWith(prefix, StringComparison.Ordinal) && IsRefreshRunning(name[prefix.Length..]);
    }

    private static bool IsRefreshRunning(string pid)
    {
        try
        {
            return int.TryParse(pid, System.Globalization.CultureInfo.InvariantCulture, out _)
                && File.ReadAllText($"/proc/{pid}/cmdline").Contains(RefreshName, StringComparison.Ordinal);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>
    /// Brings <paramref name="spare"/> (the tree verification used as reference) to the names and inodes of
    /// <paramref name="repository"/> (the tree it verified), by the differences verification found: no listing again.
    /// </summary>
    public static void Refresh(string spare, string repository, TreeDelta delta)
    {
        foreach (var change in delta.Directories)
        {
            var source = change.Directory.Length == 0 ? repository : Path.Combine(repository, change.Directory);
            var target = change.Directory.Length == 0 ? spare : Path.Combine(spare, change.Directory);
            Directory.CreateDirectory(target);
            foreach (var name in change.Remove)
            {
                TreeSwap.DeleteTree(Path.Combine(target, name));
            }

            foreach (var name in change.Create)
            {
                Directory.CreateDirectory(Path.Combine(target, name));
            }

            foreach (var name in change.Link)
            {
                // Unlink, then link: not atomic, and it need not be (a crash in between leaves a name missing from the
                // spare, which costs the next rsync one transfer). A rename over the old name instead made ext4
                // (auto_da_alloc) start writeback of every file rsync had just written, inside the swap.
                var linked = Path.Combine(target, name);
                _ = Unlink(linked);
                _ = Link(Path.Combine(source, name), linked);
            }
        }
    }

    /// <summary>
    /// Starts <c>cp -al REPO .NAME.ahm-cloning-*</c> then its rename to the spare, detached at idle priority (it outlives
    /// us, like the removal of retired trees). Recovery retires an unfinished clone as any other leftover. The rename
    /// waits for the repository lock (at most 30 s, else the clone is dropped): a sync that started meanwhile found no
    /// spare and gives its own tree that name when it ends, so a clone landing under it would make that rename fail.
    /// A clone that finds the spare there already is dropped.
    /// </summary>
    public static void StartCloning(string repository)
    {
        const string Script =
            "exec </dev/null >/dev/null 2>&1; " +
            "clone() { cp -al --no-target-directory -- \"$1\" \"$2\" && flock -w 30 \"$4\" mv --no-target-directory -- \"$2\" \"$3\" || rm -rf --one-file-system -- \"$2\"; }; " +
            "set -- clone \"$@\"; " +
            "if command -v ionice >/dev/null; then ionice -c 3 -p $$; fi; renice -n 19 -p $$ >/dev/null; " +
            "\"$@\"";
        var cloning = TreeSwap.Sibling(repository, CloningMarker + Guid.NewGuid().ToString("N")[..12]);
        // When it cannot start there is no spare: the next sync builds its staging with --link-dest, as without one.
        _ = StartDetached(Script, "ahm-clone-spare", repository, cloning, TreeSwap.Sibling(repository, TreeSwap.SpareSuffix), RepositoryLock.PathFor(repository));
    }

    /// <summary>Starts <c>sh -c SCRIPT NAME ARGS…</c> in a session of its own, so that it outlives this process; false when it could not start.</summary>
    private static bool StartDetached(string script, string name, params string[] args)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo("setsid", ["/bin/sh", "-c", script, name, .. args])
            {
                UseShellExecute = false,
                WorkingDirectory = "/",
            });
            return process is not null;
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or IOException or InvalidOperationException)
        {
            return false;
        }
    }

    [DllImport("libc", EntryPoint = "unlink", SetLastError = true)]
    private static extern int Unlink([MarshalAs(UnmanagedType.LPUTF8Str)] string path);

    [DllImport("libc", EntryPoint = "link", SetLastError = true)]
    private static extern int Link([MarshalAs(UnmanagedType.LPUTF8Str)] string existing, [MarshalAs(UnmanagedType.LPUTF8Str)] string created);
}
