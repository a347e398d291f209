using System.Security.Cryptography;
using AdHocMirror.Testing;
using AdHocMirror.Testing.Trees;

namespace AdHocMirror.Tree.Tests.Trees;

public sealed class GentooTreeTests
{
    [Fact]
    public void Same_seed_gives_the_same_tree_and_the_shape_of_a_gentoo_repository()
    {
        using var temp = new TempDir();
        var options = new GentooTreeOptions { Files = 400, Seed = 42 };
        GentooTree.WriteContent(temp.Combine("a"), options);
        GentooTree.WriteContent(temp.Combine("b"), options);
        var files = GentooTree.ListContent(temp.Combine("a"));
        Assert.Equal(files, GentooTree.ListContent(temp.Combine("b")));
        Assert.All(files.Take(50), f => Assert.Equal(Hash(temp.Combine("a", f)), Hash(temp.Combine("b", f))));
        Assert.InRange(files.Count, 400, 420);
        Assert.Contains(files, f => f.EndsWith(".ebuild", StringComparison.Ordinal));
        Assert.Contains(files, f => f.StartsWith("metadata/md5-cache/", StringComparison.Ordinal));
        Assert.Contains(files, f => f.Contains("/files/", StringComparison.Ordinal));
        Assert.Contains(files, f => f.StartsWith("profiles/", StringComparison.Ordinal));
        Assert.Contains(files, f => f.StartsWith("licenses/", StringComparison.Ordinal));
        Assert.Contains(files, f => f.StartsWith("eclass/", StringComparison.Ordinal));
        Assert.Contains("metadata/timestamp.chk", files);
        Assert.Contains(files, f => f.EndsWith("/metadata.xml", StringComparison.Ordinal) && f.Count(c => c == '/') == 2);
    }

    [Fact]
    public void Sizes_follow_the_real_overlay_quantiles()
    {
        var random = new Random(3);
        var sizes = Enumerable.Range(0, 200_000).Select(_ => FileSizes.Draw(random)).Order().ToArray();
        Assert.InRange(sizes[sizes.Length / 2], 700, 900);
        Assert.InRange(sizes[sizes.Length * 9 / 10], 2_900, 3_700);
        Assert.InRange(sizes[sizes.Length * 99 / 100], 45_000, 60_000);
        Assert.InRange(sizes[^1], 200_000, 440_000);
    }

    private static string Hash(string path) => Convert.ToHexString(SHA512.HashData(File.ReadAllBytes(path)));
}
