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
                // A link beside, then one rename over the old name. A leftover temporary name (a crash) only makes
                // this link fail: the spare then keeps its old file, which costs the next rsync a transfer.
                var temporary = Path.Combine(target, ".ahm-link-" + name);
                if (Link(Path.Combine(source, name), temporary) == 0)
                {
                    LinuxRename.Rename(temporary, Path.Combine(target, name));
                }
            }
        }
    }

    /// <summary>
    /// Starts <c>cp -al REPO .NAME.ahm-cloning-*</c> then its rename to the spare, detached at idle priority (it outlives
    /// us, like the removal of retired trees). Recovery retires an unfinished clone as any other leftover.
    /// </summary>
    public static void StartCloning(string repository)
    {
        const string Script =
            "exec </dev/null >/dev/null 2>&1; " +
            "clone() { cp -al --no-target-directory -- \"$1\" \"$2\" && mv --no-target-directory -- \"$2\" \"$3\" || rm -rf --one-file-system -- \"$2\"; }; " +
            "set -- clone \"$@\"; " +
            "if command -v ionice >/dev/null; then ionice -c 3 -p $$; fi; renice -n 19 -p $$ >/dev/null; " +
            "\"$@\"";
        var cloning = TreeSwap.Sibling(repository, CloningMarker + Guid.NewGuid().ToString("N")[..12]);
        try
        {
            using var process = Process.Start(new ProcessStartInfo("setsid", ["/bin/sh", "-c", Script, "ahm-clone-spare", repository, cloning, TreeSwap.Sibling(repository, TreeSwap.SpareSuffix)])
            {
                UseShellExecute = false,
                WorkingDirectory = "/",
            });
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or IOException or InvalidOperationException)
        {
            // No spare: the next sync builds its staging with --link-dest, as without one.
        }
    }

    [DllImport("libc", EntryPoint = "link", SetLastError = true)]
    private static extern int Link([MarshalAs(UnmanagedType.LPUTF8Str)] string existing, [MarshalAs(UnmanagedType.LPUTF8Str)] string created);
}
