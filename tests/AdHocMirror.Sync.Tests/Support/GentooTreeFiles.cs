using AdHocMirror.Testing.Trees;

namespace AdHocMirror.Sync.Tests.Support;

internal static class GentooTreeFiles
{
    public static string FirstEbuild(string tree) =>
        Path.Combine(tree, GentooTree.ListContent(tree).Order(StringComparer.Ordinal).First(p => p.EndsWith(".ebuild", StringComparison.Ordinal)));
}
