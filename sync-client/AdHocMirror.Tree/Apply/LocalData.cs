using AdHocMirror.Tree.Native;
using AdHocMirror.Tree.Rsync;

namespace AdHocMirror.Tree.Apply;

/// <summary>
/// What under a repository belongs to the machine, not to the tree: older installs keep DISTDIR, PKGDIR and local
/// additions in its top-level <c>distfiles/</c>, <c>packages/</c> and <c>local/</c>. Portage's in-place rsync never
/// touches them (PORTAGE_RSYNC_OPTS excludes them) and Gentoo's Manifest IGNOREs them; a sync that replaces the whole
/// tree must not be worse, so they move from the old tree into the new one (one rename each), and no tree beside the
/// repository is retired with them still inside.
/// </summary>
/// <remarks>
/// Only these names, which a mirror cannot send (rsync excludes them), are ever moved into the repository: nothing
/// received is placed by this rule. Where both trees hold one (a git staging dir is a hard-linked copy of the checkout,
/// so it has them too), the repository's stays and the other goes with its tree.
/// </remarks>
internal static class LocalData
{
    public static IReadOnlyList<string> Names { get; } =
        [.. PortageRsync.Options.Where(o => o.StartsWith("--exclude=/", StringComparison.Ordinal)).Select(o => o["--exclude=/".Length..]).Where(n => n != ".git")];

    /// <summary>Whether <paramref name="path"/> (relative to the repository) is one of these names or lies below one.</summary>
    public static bool Contains(string path) =>
        Names.Any(n => path == n || path.StartsWith(n + "/", StringComparison.Ordinal));

    /// <summary>Moves each such name that <paramref name="from"/> holds and <paramref name="into"/> (an existing directory) lacks.</summary>
    public static void MoveInto(string from, string into)
    {
        if (!Directory.Exists(into))
        {
            return;
        }

        foreach (var name in Names)
        {
            var source = Path.Combine(from, name);
            if (FileIdentity.TryGet(source, out _))
            {
                LinuxRename.TryMoveNoReplace(source, Path.Combine(into, name));
            }
        }
    }
}
