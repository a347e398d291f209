using AdHocMirror.Testing;
using AdHocMirror.Testing.Trees;
using AdHocMirror.Tree.Manifests;
using AdHocMirror.Tree.Native;
using AdHocMirror.Tree.OpenPgp;

namespace AdHocMirror.Tree.Tests.Manifests;

public sealed class ListingsAheadTests
{
    private static readonly DateTimeOffset Next = new(2026, 11, 22, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Listings_read_before_the_transfer_are_kept_only_where_nothing_was_written_since()
    {
        await using var tree = await SignedTree.CreateAsync(files: 200);
        var staging = await CloneSettledAsync(tree);
        await using var ahead = ListingsAhead.Start(staging, tree.Path);
        var ignored = TopIgnores(tree.File("Manifest"));
        var earlier = await ahead.TakeAsync(Path.GetFullPath(staging), Path.GetFullPath(tree.Path), ignored);
        Assert.NotNull(earlier);
        Assert.Null(await ahead.TakeAsync(Path.GetFullPath(staging), Path.GetFullPath(tree.Path), [.. ignored, "metadata/md5-cache"]));

        // What rsync does meanwhile: the next version, and a file the mirror slipped into a directory that did not change.
        var changes = await GentooTree.NextVersionAsync(staging, seed: 9, changes: 5, Next, tree.Key);
        var untouched = UntouchedPackage(staging, changes);
        await File.WriteAllTextAsync(Path.Combine(staging, untouched, "planted-1.0.ebuild"), "planted by the mirror");

        var parallel = new ParallelOptions { MaxDegreeOfParallelism = 2 };
        var fresh = ListedTrees.Read(staging, tree.Path, ignored, parallel)!;
        var reused = ListedTrees.Read(staging, tree.Path, ignored, parallel, earlier)!;
        Assert.Equal(fresh.StagedDirectories.Order(StringComparer.Ordinal), reused.StagedDirectories.Order(StringComparer.Ordinal));
        foreach (var directory in fresh.StagedDirectories)
        {
            Assert.Equal(Describe(fresh.Staged(directory)!), Describe(reused.Staged(directory)!));
        }

        Assert.Equal(Describe(fresh.Delta()), Describe(reused.Delta()));
        Assert.NotSame(earlier.Staged[untouched], reused.Staged(untouched));
        Assert.Contains("planted-1.0.ebuild", Describe(reused.Staged(untouched)!));
        var unchanged = fresh.StagedDirectories.Where(d => earlier.Staged.TryGetValue(d, out var before) && Describe(before) == Describe(fresh.Staged(d)!)).ToList();
        Assert.True(unchanged.Count >= 5, $"only {unchanged.Count} directories unchanged");
        Assert.All(unchanged, d => Assert.Same(earlier.Staged[d], reused.Staged(d)));
    }

    [Fact]
    public async Task Verification_with_listings_read_ahead_finds_a_file_planted_after_them()
    {
        await using var tree = await SignedTree.CreateAsync(files: 200);
        var staging = await CloneSettledAsync(tree);
        await using var ahead = ListingsAhead.Start(staging, tree.Path);
        Assert.NotNull(await ahead.TakeAsync(Path.GetFullPath(staging), Path.GetFullPath(tree.Path), TopIgnores(tree.File("Manifest"))));
        var changes = await GentooTree.NextVersionAsync(staging, seed: 9, changes: 5, Next, tree.Key);
        var verifier = new ManifestTreeVerifier(new ManifestVerifierOptions { UnchangedReference = tree.Path, ListedAhead = ahead });
        var result = await verifier.VerifyAsync(staging, tree.Keyring);
        Assert.True(result.Succeeded, result.Summary);
        Assert.True(result.FilesSkipped > 100, $"skipped {result.FilesSkipped}");

        var untouched = UntouchedPackage(staging, changes);
        await File.WriteAllTextAsync(Path.Combine(staging, untouched, "planted-1.0.ebuild"), "planted by the mirror");
        var planted = await verifier.VerifyAsync(staging, tree.Keyring);
        Assert.Contains(planted.Problems, p => p.Path == untouched + "/planted-1.0.ebuild" && p.Kind == TreeProblemKind.Uncovered);
    }

    /// <summary>
    /// A hard-link clone of the tree, returned once the coarse clock has moved past its creation: a directory stamped in
    /// the tick its listing began is always listed again, so only a settled tree lets listings be kept.
    /// </summary>
    private static async Task<string> CloneSettledAsync(SignedTree tree)
    {
        var staging = await tree.HardLinkCloneAsync();
        var cloned = DirectoryReader.CoarseNow();
        await Eventually.TrueAsync(() => DirectoryReader.CoarseNow() != cloned, "the coarse clock to tick", TimeSpan.FromSeconds(5));
        return staging;
    }

    private static HashSet<string> TopIgnores(string manifest)
    {
        var set = new ManifestSet();
        set.Add(ClearSignedText.TryGetBody(File.ReadAllBytes(manifest), out _)!, string.Empty, "Manifest", [], []);
        return set.Ignored.ToHashSet(StringComparer.Ordinal);
    }

    private static string UntouchedPackage(string staging, TreeChanges changes) =>
        GentooTree.ListContent(staging).Select(f => Path.GetDirectoryName(f)!)
            .First(d => d.Count(c => c == '/') == 1 && !d.StartsWith("metadata", StringComparison.Ordinal)
                && !changes.Changed.Concat(changes.Added).Any(c => c.StartsWith(d + "/", StringComparison.Ordinal)));

    private static string Describe(ListedTrees.Listing listing) =>
        string.Join(' ', listing.Entries.Select(e => $"{listing.NameString(e)}:{e.Inode}:{e.Kind}"));

    private static string Describe(TreeDelta delta) =>
        string.Join('\n', delta.Directories.Select(d => $"{d.Directory} -{string.Join(',', d.Remove)} +{string.Join(',', d.Create)} ~{string.Join(',', d.Link)}"));
}
