using AdHocMirror.Testing;
using AdHocMirror.Testing.Trees;
using AdHocMirror.Tree.Manifests;
using AdHocMirror.Tree.Native;
using AdHocMirror.Tree.OpenPgp;
using AdHocMirror.Tree.Rsync;
using FsCheck;
using FsCheck.Fluent;

namespace AdHocMirror.Tree.Tests.Manifests;

/// <summary>
/// Hashes computed while the tree arrives change nothing but the time: a file rewritten in place or replaced after it
/// was hashed is hashed again, and verification with hashes ahead gives the result of verifying the finished tree.
/// </summary>
public sealed class FilesHashedAheadTests
{
    private const int PropertyCases = 25;

    [Fact]
    public async Task A_file_rewritten_in_place_after_it_was_hashed_is_hashed_again()
    {
        await using var tree = await SignedTree.CreateAsync(files: 80);
        var staging = await CopyAsync(tree, "rewritten");
        var files = GentooTreeFilesOf(staging);
        await using var ahead = await HashAllAsync(staging, files);
        var victim = files[files.Count / 2];

        // What rsync --inplace (or any writer keeping the inode) does: same size, same mtime, other bytes.
        RewriteInPlace(Path.Combine(staging, victim), bytes => bytes.Select(b => (byte)(b ^ 0x20)).ToArray());
        var result = await VerifyAsync(staging, tree, ahead);

        var problem = Assert.Single(result.Problems);
        Assert.Equal((victim, TreeProblemKind.HashMismatch), (problem.Path, problem.Kind));
        Assert.Equal(Describe(await VerifyAsync(staging, tree, null)), Describe(result));
        Assert.Equal(result.FilesChecked - 1, result.FilesHashedAhead); // All but the rewritten one.
    }

    [Fact]
    public async Task A_file_hashed_while_wrong_and_then_rewritten_to_the_signed_content_verifies()
    {
        await using var tree = await SignedTree.CreateAsync(files: 80);
        var staging = await CopyAsync(tree, "fixed");
        var files = GentooTreeFilesOf(staging);
        var victim = files[files.Count / 3];
        var signed = await File.ReadAllBytesAsync(Path.Combine(staging, victim));
        RewriteInPlace(Path.Combine(staging, victim), bytes => bytes.Select(b => (byte)(b ^ 0x01)).ToArray());
        await using var ahead = await HashAllAsync(staging, files);

        RewriteInPlace(Path.Combine(staging, victim), _ => signed);
        var result = await VerifyAsync(staging, tree, ahead);

        Assert.True(result.Succeeded, result.Summary);
        Assert.Equal(result.FilesChecked - 1, result.FilesHashedAhead);
    }

    [Fact]
    public async Task A_file_replaced_by_rename_after_it_was_hashed_is_hashed_again()
    {
        await using var tree = await SignedTree.CreateAsync(files: 80);
        var staging = await CopyAsync(tree, "replaced");
        var files = GentooTreeFilesOf(staging);
        await using var ahead = await HashAllAsync(staging, files);
        var victim = Path.Combine(staging, files[5]);
        var mtime = File.GetLastWriteTimeUtc(victim);
        var replacement = victim + ".new";
        await File.WriteAllBytesAsync(replacement, [.. (await File.ReadAllBytesAsync(victim)).Select(b => (byte)(b ^ 0x02))]);
        File.SetLastWriteTimeUtc(replacement, mtime);
        File.Move(replacement, victim, overwrite: true);

        var result = await VerifyAsync(staging, tree, ahead);

        Assert.Equal((files[5], TreeProblemKind.HashMismatch), (Assert.Single(result.Problems).Path, result.Problems[0].Kind));
    }

    [Fact]
    public async Task The_top_level_signature_checked_during_the_transfer_counts_only_for_the_same_bytes()
    {
        await using var tree = await SignedTree.CreateAsync(files: 40);
        var staging = await CopyAsync(tree, "top");
        var files = GentooTreeFilesOf(staging);
        await using (var ahead = await HashAllAsync(staging, ["Manifest", .. files], tree))
        {
            Assert.True((await VerifyAsync(staging, tree, ahead)).Succeeded);
        }

        await using var changed = await HashAllAsync(staging, ["Manifest", .. files], tree);
        // After its signature was checked: one byte more in the signed text, same inode.
        var top = Path.Combine(staging, "Manifest");
        var text = await File.ReadAllTextAsync(top);
        RewriteInPlace(top, _ => System.Text.Encoding.UTF8.GetBytes(text.Replace("TIMESTAMP", "TIMESTAMP ", StringComparison.Ordinal)));
        var result = await VerifyAsync(staging, tree, changed);

        Assert.False(result.Succeeded);
        Assert.Equal(Describe(await VerifyAsync(staging, tree, null)), Describe(result));
        Assert.Contains(result.Problems, p => p.Path == "Manifest" && p.Kind == TreeProblemKind.Signature);
    }

    [Fact]
    public async Task Sub_Manifests_parsed_during_the_transfer_count_only_for_the_bytes_they_were_parsed_from()
    {
        await using var tree = await SignedTree.CreateAsync(files: 80);
        var staging = await CopyAsync(tree, "sub-manifests");
        var subManifests = SubManifestsOf(staging);
        Assert.True(subManifests.Count >= 10, $"{subManifests.Count} sub-Manifests");
        await using (var ahead = await HashAllAsync(staging, subManifests))
        {
            Assert.True((await VerifyAsync(staging, tree, ahead)).Succeeded);
            Assert.Equal(subManifests.Count, ahead.Reused); // every one taken as parsed, none read again
        }

        await using var changed = await HashAllAsync(staging, subManifests);
        // After it was parsed: other bytes in the same inode, same size and mtime.
        var victim = subManifests[subManifests.Count / 2];
        RewriteInPlace(Path.Combine(staging, victim), bytes => bytes.Select(b => (byte)(b ^ 0x10)).ToArray());
        var result = await VerifyAsync(staging, tree, changed);

        Assert.Equal(Describe(await VerifyAsync(staging, tree, null)), Describe(result));
        Assert.Contains(result.Problems, p => p.Path == victim && p.Kind == TreeProblemKind.HashMismatch);
        Assert.Equal(subManifests.Count - 1, changed.Reused);
    }

    [Theory]
    [InlineData(">f+++++++++ app-misc/foo/foo-1.ebuild", "app-misc/foo/foo-1.ebuild")]
    [InlineData(">f.st...... a b/c d", "a b/c d")]
    [InlineData(">f+++++++++ odd\\#012name\\#303\\#251", "odd\nnameé")]
    [InlineData("cd+++++++++ app-misc/", null)]
    [InlineData("cL+++++++++ link", null)]
    [InlineData("Number of files: 12", null)]
    [InlineData(">f+++++++++ bad\\#377", null)]
    public void Rsync_lines_name_the_regular_files_received(string record, string? expected)
    {
        Assert.Equal(expected is not null, RsyncItemized.TryGetReceivedFile(record, out var path));
        Assert.Equal(expected ?? string.Empty, path);
    }

    /// <summary>
    /// Random mutations of a signed tree before and after the files are hashed ahead (rewrites in place with and without
    /// a size change, replacements by rename, restores of the signed bytes, deletions, files added) and a random subset
    /// of files reported: verification with the hashes equals verification of the finished tree.
    /// </summary>
    [Fact]
    public async Task Verification_with_hashes_ahead_equals_verification_of_the_finished_tree()
    {
        await using var tree = await SignedTree.CreateAsync(files: 60);
        CheckMutations(tree);
    }

    /// <summary>The same random mutations on the tree gemato made and signed (gzipped sub-Manifests, BLAKE2B + SHA512).</summary>
    [ConformanceFact]
    public async Task Verification_with_hashes_ahead_equals_verification_of_the_finished_gemato_tree()
    {
        using var temp = new TempDir("ahm-ahead-gemato");
        var pristine = temp.Combine("signed");
        (await ExternalProcess.RunAsync("cp", ["-a", "--", Path.Combine(Conformance.Directory!, "glep74-gemato", "tree"), pristine])).EnsureSuccess("cp -a");
        (await ExternalProcess.RunAsync("chmod", ["-R", "u+w", "--", pristine])).EnsureSuccess("chmod");
        await using var keyring = await OpenPgpKeyring.OpenAsync(Path.Combine(Conformance.Directory!, "glep74-gemato", "test-key.pub.asc"));
        Assert.True((await new ManifestTreeVerifier().VerifyAsync(pristine, keyring)).Succeeded, "the gemato tree verifies as gemato says");
        CheckMutations(new Signed(pristine, keyring, temp));
    }

    /// <summary>
    /// The same on gemato's tree with directory and file symlinks: a mutation through a linked directory changes the
    /// file every path to it reaches, and rsync reports only the regular files it writes (none through a link).
    /// </summary>
    [ConformanceFact]
    public async Task Verification_with_hashes_ahead_equals_verification_of_the_finished_gemato_tree_with_directory_links()
    {
        using var temp = new TempDir("ahm-ahead-dirlinks");
        var pristine = await DirlinksFixture.CopyAsync(temp.Combine("signed"));
        await using var keyring = await OpenPgpKeyring.OpenAsync(DirlinksFixture.File("test-key.pub.asc"));
        Assert.True((await new ManifestTreeVerifier().VerifyAsync(pristine, keyring)).Succeeded, "the dirlinks tree verifies as gemato says");
        CheckMutations(new Signed(pristine, keyring, temp));
    }

    /// <summary>A signed tree to mutate copies of: its path (never changed), the keyring that accepts it, scratch space.</summary>
    private sealed record Signed(string Path, OpenPgpKeyring Keyring, TempDir Temp)
    {
        public static implicit operator Signed(SignedTree tree) => new(tree.Path, tree.Keyring, tree.Temp);
    }

    private static void CheckMutations(Signed tree)
    {
        var count = MutableFilesOf(tree.Path).Count;
        var mutation = from kind in Gen.Elements(Enum.GetValues<MutationKind>())
                       from index in Gen.Choose(0, count - 1)
                       select new Mutation(kind, index);
        var cases = from before in mutation.ListOf().Select(l => l.Take(4).ToArray())
                    from after in mutation.ListOf().Select(l => l.Take(4).ToArray())
                    from reported in Gen.Choose(0, 100)
                    select new MutationCase(before, after, reported);
        var failures = new List<string>();
        var number = 0;
        var property = Prop.ForAll(Arb.From(cases), (MutationCase c) =>
        {
            var difference = CheckCaseAsync(tree, c, ++number).GetAwaiter().GetResult();
            if (difference is not null)
            {
                failures.Add($"{c}: {difference}");
            }

            return difference is null;
        });
        Check.One(Config.Quick.WithMaxTest(PropertyCases).WithQuietOnSuccess(true), property);
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(3)));
    }

    public enum MutationKind
    {
        RewriteSameSize,
        RewriteOtherSize,
        ReplaceByRename,
        RestoreSigned,
        Delete,
        AddUncovered,
        RewriteTopManifest,
    }

    public sealed record Mutation(MutationKind Kind, int Index);

    public sealed record MutationCase(Mutation[] Before, Mutation[] After, int ReportedPercent)
    {
        public override string ToString() =>
            $"before [{string.Join(", ", Before.Select(m => $"{m.Kind} {m.Index}"))}], after [{string.Join(", ", After.Select(m => $"{m.Kind} {m.Index}"))}], {ReportedPercent}% reported";
    }

    private static async Task<string?> CheckCaseAsync(Signed tree, MutationCase c, int number)
    {
        var staging = await CopyAsync(tree, "case" + number);
        try
        {
            var files = MutableFilesOf(tree.Path);
            foreach (var m in c.Before)
            {
                Apply(tree, staging, files, m);
            }

            // rsync names each regular file it writes, never one reached through a symlink.
            List<string> reported = ["Manifest", .. files.Where((f, i) => i * 100 / files.Count < c.ReportedPercent && ReachedWithoutLinks(staging, f))];
            await using var ahead = await HashAllAsync(staging, reported, tree);
            foreach (var m in c.After)
            {
                Apply(tree, staging, files, m);
            }

            var with = Describe(await VerifyAsync(staging, tree, ahead));
            var without = Describe(await VerifyAsync(staging, tree, null));
            return with == without ? null : $"with hashes ahead:\n{with}\nfinished tree:\n{without}";
        }
        finally
        {
            Directory.Delete(staging, recursive: true);
        }
    }

    private static void Apply(Signed tree, string staging, List<string> files, Mutation m)
    {
        var path = Path.Combine(staging, files[m.Index]);
        if (m.Kind == MutationKind.RewriteTopManifest)
        {
            var top = Path.Combine(staging, "Manifest");
            RewriteInPlace(top, bytes => [.. bytes.Take(bytes.Length / 2), (byte)'#', .. bytes.Skip(bytes.Length / 2)]);
            return;
        }

        if (m.Kind == MutationKind.AddUncovered)
        {
            File.WriteAllText(Path.Combine(Path.GetDirectoryName(path)!, $"added-{m.Index}.ebuild"), "not in any Manifest");
            return;
        }

        if (!File.Exists(path))
        {
            return;
        }

        switch (m.Kind)
        {
            case MutationKind.RewriteSameSize:
                RewriteInPlace(path, bytes => bytes.Select(b => (byte)(b ^ 0x04)).ToArray());
                break;
            case MutationKind.RewriteOtherSize:
                RewriteInPlace(path, bytes => [.. bytes, (byte)'\n']);
                break;
            case MutationKind.ReplaceByRename:
                var mtime = File.GetLastWriteTimeUtc(path);
                File.WriteAllBytes(path + ".tmp", [.. File.ReadAllBytes(path).Select(b => (byte)(b ^ 0x08))]);
                File.SetLastWriteTimeUtc(path + ".tmp", mtime);
                File.Move(path + ".tmp", path, overwrite: true);
                break;
            case MutationKind.RestoreSigned:
                var signed = File.ReadAllBytes(Path.Combine(tree.Path, files[m.Index]));
                RewriteInPlace(path, _ => signed);
                break;
            case MutationKind.Delete:
                File.Delete(path);
                break;
        }
    }

    /// <summary>Writes new bytes into the same inode and puts the mtime back, as an in-place writer preserving times does.</summary>
    private static void RewriteInPlace(string path, Func<byte[], byte[]> change)
    {
        var mtime = File.GetLastWriteTimeUtc(path);
        var bytes = change(File.ReadAllBytes(path));
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Write))
        {
            stream.SetLength(0);
            stream.Write(bytes);
        }

        File.SetLastWriteTimeUtc(path, mtime);
    }

    private static async Task<FilesHashedAhead> HashAllAsync(string staging, IReadOnlyList<string> files, Signed? signedBy = null)
    {
        var ahead = FilesHashedAhead.Start(staging, signedBy?.Keyring);
        foreach (var file in files)
        {
            ahead.ReceivedRecord(">f+++++++++ " + file);
        }

        ahead.Completed();
        var existing = files.Count(f => File.Exists(Path.Combine(staging, f)));
        // A file changed within the current tick of the coarse clock is left to verification; the copies here are older.
        await Eventually.TrueAsync(() => ahead.Hashed >= existing, $"{existing} files hashed ahead", TimeSpan.FromSeconds(30));
        return ahead;
    }

    private static Task<TreeVerification> VerifyAsync(string staging, Signed tree, FilesHashedAhead? ahead) =>
        new ManifestTreeVerifier(new ManifestVerifierOptions { HashedAhead = ahead }).VerifyAsync(staging, tree.Keyring);

    private static string Describe(TreeVerification result) =>
        $"succeeded {result.Succeeded}, version {result.SignedVersion}, files {result.FilesChecked}\n"
        + string.Join('\n', result.Problems.Select(p => $"{p.Path} {p.Kind} {p.Detail}"));

    private static bool ReachedWithoutLinks(string root, string relative)
    {
        var path = root;
        foreach (var part in relative.Split('/'))
        {
            path = Path.Combine(path, part);
            if (new FileInfo(path).LinkTarget is not null)
            {
                return false;
            }
        }

        return true;
    }

    private static List<string> GentooTreeFilesOf(string root) => AdHocMirror.Testing.Trees.GentooTree.ListContent(root);

    /// <summary>The sub-Manifests (plain or gzip, never the top-level one), tree-relative, sorted.</summary>
    private static List<string> SubManifestsOf(string root)
    {
        var full = Path.GetFullPath(root);
        return [.. Directory.EnumerateFiles(full, "Manifest*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(full, f).Replace('\\', '/'))
            .Where(p => p.Contains('/', StringComparison.Ordinal) && Path.GetFileName(p) is "Manifest" or "Manifest.gz" && ReachedWithoutLinks(full, p))
            .Order(StringComparer.Ordinal)];
    }

    /// <summary>What the property mutates and reports: content files and sub-Manifests (which are parsed ahead too).</summary>
    private static List<string> MutableFilesOf(string root) => [.. GentooTreeFilesOf(root).Concat(SubManifestsOf(root)).Order(StringComparer.Ordinal)];

    private static async Task<string> CopyAsync(Signed tree, string name)
    {
        var copy = tree.Temp.Combine(name);
        (await ExternalProcess.RunAsync("cp", ["-a", tree.Path, copy])).EnsureSuccess("cp -a");
        // Copies older than the coarse clock's current tick: hashing them ahead is never racy.
        var copied = DirectoryReader.CoarseNow();
        await Eventually.TrueAsync(() => DirectoryReader.CoarseNow() != copied, "the coarse clock to tick", TimeSpan.FromSeconds(5));
        return copy;
    }
}
