using System.Diagnostics;
using AdHocMirror.Testing;
using AdHocMirror.Tree.Apply;

namespace AdHocMirror.Tree.Tests.Apply;

public sealed class TreeRemovalTests
{
    /// <summary>
    /// What ahm-bench and recovery meet after an interrupted run: the detached <c>rm -rf</c> of a retired tree still at
    /// work on the same tree. Entries vanishing underneath are not an error, and the tree ends gone.
    /// </summary>
    [Fact]
    public async Task A_tree_removed_by_another_process_at_the_same_time_is_removed_without_error()
    {
        using var temp = new TempDir("ahm-removal");
        for (var round = 0; round < 3; round++)
        {
            var tree = temp.Combine("tree" + round);
            for (var d = 0; d < 60; d++)
            {
                var directory = Path.Combine(tree, $"cat-{d}", "pkg");
                Directory.CreateDirectory(directory);
                for (var f = 0; f < 40; f++)
                {
                    await File.WriteAllTextAsync(Path.Combine(directory, $"pkg-{f}.ebuild"), "x");
                }
            }

            File.CreateSymbolicLink(Path.Combine(tree, "outside"), temp.Path);
            using var other = Process.Start(new ProcessStartInfo("rm", ["-rf", "--", tree]) { UseShellExecute = false })!;
            try
            {
                TreeRemoval.Remove(tree);
                Assert.False(Path.Exists(tree));
            }
            finally
            {
                await other.WaitForExitAsync();
            }
        }

        Assert.True(Directory.Exists(temp.Path), "a symlink inside is removed, never followed");
    }

    [Fact]
    public void A_path_that_does_not_exist_is_nothing_to_do()
    {
        using var temp = new TempDir("ahm-removal");
        TreeRemoval.Remove(temp.Combine("absent"));
        var file = temp.Combine("file");
        File.WriteAllText(file, "x");
        TreeRemoval.Remove(file);
        Assert.False(File.Exists(file));
    }
}
