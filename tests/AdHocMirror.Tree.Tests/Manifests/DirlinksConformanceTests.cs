using AdHocMirror.Testing;
using AdHocMirror.Testing.Trees;
using AdHocMirror.Tree.Manifests;
using AdHocMirror.Tree.OpenPgp;
using AdHocMirror.Tree.Versions;

namespace AdHocMirror.Tree.Tests.Manifests;

/// <summary>
/// The gemato-signed tree with directory and file symlinks (as GURU's dev-lang/swift/files has): verified as gemato
/// verifies it, each file under every path that reaches it; every escape and loop refused, cleanly and at once.
/// </summary>
public sealed class DirlinksConformanceTests
{
    private const string Files = DirlinksFixture.Files;
    private static readonly TimeSpan NoHang = TimeSpan.FromMinutes(1);
    private static readonly ManifestTreeVerifier Verifier = new();

    [ConformanceFact]
    public async Task Verifies_with_the_test_key_and_yields_the_signed_TIMESTAMP()
    {
        using var temp = new TempDir("ahm-dirlinks");
        var tree = await DirlinksFixture.CopyAsync(temp.Combine("tree"));
        Assert.Equal("foo-1.2", new DirectoryInfo(Path.Combine(tree, Files, "foo-1.3")).LinkTarget);
        await using var keyring = await OpenPgpKeyring.OpenAsync(DirlinksFixture.File("test-key.pub.asc"));
        var result = await Verifier.VerifyAsync(tree, keyring).WaitAsync(NoHang);
        Assert.True(result.Succeeded, result.Summary);
        Assert.Equal(TreeVersion.FromManifestTimestamp(DirlinksFixture.Timestamp), result.Version);
        Assert.Equal((await File.ReadAllTextAsync(DirlinksFixture.File("test-key.fpr"))).Trim(), result.SignedBy);
    }

    [ConformanceFact]
    public async Task Fails_with_the_other_key()
    {
        using var temp = new TempDir("ahm-dirlinks");
        var tree = await DirlinksFixture.CopyAsync(temp.Combine("tree"));
        await using var keyring = await OpenPgpKeyring.OpenAsync(DirlinksFixture.File("other-key.pub.asc"));
        var result = await Verifier.VerifyAsync(tree, keyring).WaitAsync(NoHang);
        Assert.False(result.Succeeded);
        Assert.Equal(TreeProblemKind.Signature, Assert.Single(result.Problems).Kind);
    }

    public static TheoryData<string> Escapes => new()
    {
        "a directory with files",
        "an empty directory",
        "nothing (dangling)",
        "an absolute path",
        "an absolute path to an empty directory",
        "a file outside",
        "outside and back in",
    };

    /// <summary>gemato fails the first and succeeds on the empty and dangling ones; this verifier refuses them all.</summary>
    [ConformanceTheory]
    [MemberData(nameof(Escapes))]
    public async Task A_symlink_that_leads_out_of_the_tree_is_refused(string to)
    {
        using var temp = new TempDir("ahm-dirlinks");
        var tree = await DirlinksFixture.CopyAsync(temp.Combine("tree"));
        Directory.CreateDirectory(temp.Combine("outside", "full"));
        await File.WriteAllTextAsync(temp.Combine("outside", "full", "passwd"), "root:x:0:0::/root:/bin/sh\n");
        Directory.CreateDirectory(temp.Combine("outside", "empty"));
        var files = Path.Combine(tree, Files);
        var up = Path.GetRelativePath(files, temp.Path);
        var target = to switch
        {
            "a directory with files" => Path.Combine(up, "outside", "full"),
            "an empty directory" => Path.Combine(up, "outside", "empty"),
            "nothing (dangling)" => Path.Combine(up, "outside", "missing"),
            "an absolute path" => temp.Combine("outside", "full"),
            "an absolute path to an empty directory" => temp.Combine("outside", "empty"),
            "a file outside" => Path.Combine(up, "outside", "full", "passwd"),
            _ => Path.Combine(up, "tree", Files, "foo-1.2"),
        };
        File.CreateSymbolicLink(Path.Combine(files, "evil"), target);
        await using var keyring = await OpenPgpKeyring.OpenAsync(DirlinksFixture.File("test-key.pub.asc"));
        var result = await Verifier.VerifyAsync(tree, keyring).WaitAsync(NoHang);
        Assert.False(result.Succeeded, $"a link to {to} verified");
        var problem = Assert.Single(result.Problems);
        Assert.Equal((Files + "/evil", TreeProblemKind.Symlink), (problem.Path, problem.Kind));
    }

    public static TheoryData<string, string[]> Loops => new()
    {
        { "a link to itself", ["loop", "loop"] },
        { "two links to each other", ["a", "b", "b", "a"] },
        { "a link to its parent", ["up", ".."] },
        { "a link to the tree's root", ["root", "../../.."] },
        { "a loop through the chain", ["foo-1.2/back", "../foo-1.4"] },
        { "two directories linked to each other", ["x/to-y", "../y", "y/to-x", "../x"] },
        { "a fan of links", ["f1/a", "../f2", "f1/b", "../f2", "f2/a", "../f3", "f2/b", "../f3", "f3/a", "../f1", "f3/b", "../f1"] },
    };

    /// <summary>gemato crashes on the first two and fails the others; this verifier fails them all with a clean problem, at once.</summary>
    [ConformanceTheory]
    [MemberData(nameof(Loops))]
    public async Task A_symlink_loop_fails_cleanly_and_at_once(string loop, string[] links)
    {
        using var temp = new TempDir("ahm-dirlinks");
        var tree = await DirlinksFixture.CopyAsync(temp.Combine("tree"));
        var files = Path.Combine(tree, Files);
        for (var i = 0; i < links.Length; i += 2)
        {
            var link = Path.Combine(files, links[i]);
            Directory.CreateDirectory(Path.GetDirectoryName(link)!);
            File.CreateSymbolicLink(link, links[i + 1]);
        }

        await using var keyring = await OpenPgpKeyring.OpenAsync(DirlinksFixture.File("test-key.pub.asc"));
        var result = await Verifier.VerifyAsync(tree, keyring).WaitAsync(NoHang);
        Assert.False(result.Succeeded, $"{loop} verified");
        Assert.Contains(result.Problems, p => p.Kind == TreeProblemKind.Symlink);
        Assert.All(result.Problems, p => Assert.True(p.Kind is TreeProblemKind.Symlink or TreeProblemKind.Uncovered, p.ToString()));
    }

    [ConformanceFact]
    public async Task A_byte_changed_through_a_linked_path_fails_under_every_path_that_reaches_it()
    {
        using var temp = new TempDir("ahm-dirlinks");
        var tree = await DirlinksFixture.CopyAsync(temp.Combine("tree"));
        await ChangeLastByteAsync(Path.Combine(tree, Files, "foo-1.3", "a.patch"));
        await using var keyring = await OpenPgpKeyring.OpenAsync(DirlinksFixture.File("test-key.pub.asc"));
        var result = await Verifier.VerifyAsync(tree, keyring).WaitAsync(NoHang);
        Assert.Equal(
            new[] { "bar.patch", "foo-1.2/a.patch", "foo-1.3/a.patch", "foo-1.4/a.patch" }.Select(p => (Files + "/" + p, TreeProblemKind.HashMismatch)),
            result.Problems.Select(p => (p.Path, p.Kind)));
    }

    /// <summary>
    /// The fast paths (a reference tree that proves unchanged files, listings read ahead): a directory with a symlink is
    /// never proven unchanged, every file reached through a link is hashed, and no change behind a link slips through.
    /// </summary>
    [ConformanceTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task With_a_reference_tree_every_path_through_a_link_is_still_hashed(bool listingsAhead)
    {
        using var temp = new TempDir("ahm-dirlinks");
        var installed = await DirlinksFixture.CopyAsync(temp.Combine("installed"));
        await using var keyring = await OpenPgpKeyring.OpenAsync(DirlinksFixture.File("test-key.pub.asc"));
        var files = Path.Combine(temp.Combine("staged"), Files);

        async Task<TreeVerification> VerifyStagedAsync()
        {
            await using var ahead = listingsAhead ? ListingsAhead.Start(temp.Combine("staged"), installed) : null;
            var verifier = new ManifestTreeVerifier(new ManifestVerifierOptions { UnchangedReference = installed, ListedAhead = ahead });
            return await verifier.VerifyAsync(temp.Combine("staged"), keyring).WaitAsync(NoHang);
        }

        async Task CloneAsync()
        {
            if (Directory.Exists(temp.Combine("staged")))
            {
                Directory.Delete(temp.Combine("staged"), recursive: true);
            }

            (await ExternalProcess.RunAsync("cp", ["-al", installed, temp.Combine("staged")])).EnsureSuccess("cp -al");
        }

        await CloneAsync();
        var same = await VerifyStagedAsync();
        Assert.True(same.Succeeded, same.Summary);
        Assert.True(same.FilesSkipped > 0, "the reference proved nothing: the fast path was not taken");
        Assert.True(same.FilesChecked >= 5, $"only {same.FilesChecked} hashed: the paths through links must be");

        // A new inode with one byte changed, where every path through the links leads.
        var patch = Path.Combine(files, "foo-1.2", "a.patch");
        var bytes = await File.ReadAllBytesAsync(patch);
        bytes[^2] ^= 1;
        File.Delete(patch);
        await File.WriteAllBytesAsync(patch, bytes);
        var changed = await VerifyStagedAsync();
        Assert.Equal(
            new[] { "bar.patch", "foo-1.2/a.patch", "foo-1.3/a.patch", "foo-1.4/a.patch" }.Select(p => Files + "/" + p),
            changed.Problems.Select(p => p.Path));

        // The link turned to a hidden directory (the walk skips hidden names) holding other bytes under the same names.
        await CloneAsync();
        var hidden = Path.Combine(files, ".hidden");
        Directory.CreateDirectory(hidden);
        await File.WriteAllTextAsync(Path.Combine(hidden, "a.patch"), "other\n");
        File.Copy(Path.Combine(files, "foo-1.2", "b.patch"), Path.Combine(hidden, "b.patch"));
        File.Delete(Path.Combine(files, "foo-1.3"));
        File.CreateSymbolicLink(Path.Combine(files, "foo-1.3"), ".hidden");
        var retargeted = await VerifyStagedAsync();
        Assert.Equal(
            new[] { ("foo-1.3/a.patch", TreeProblemKind.SizeMismatch), ("foo-1.4/a.patch", TreeProblemKind.SizeMismatch) }.Select(p => (Files + "/" + p.Item1, p.Item2)),
            retargeted.Problems.Select(p => (p.Path, p.Kind)));

        // A file link turned to a file outside the tree that holds the very bytes the Manifest lists.
        await CloneAsync();
        File.Copy(Path.Combine(installed, Files, "foo-1.2", "a.patch"), temp.Combine("outside.patch"));
        File.Delete(Path.Combine(files, "bar.patch"));
        File.CreateSymbolicLink(Path.Combine(files, "bar.patch"), "../../../../outside.patch");
        var escaped = await VerifyStagedAsync();
        var problem = Assert.Single(escaped.Problems);
        Assert.Equal((Files + "/bar.patch", TreeProblemKind.Symlink), (problem.Path, problem.Kind));
    }

    private static async Task ChangeLastByteAsync(string path)
    {
        var text = await File.ReadAllTextAsync(path);
        Assert.Contains("42", text, StringComparison.Ordinal);
        var at = text.LastIndexOf("42", StringComparison.Ordinal);
        await File.WriteAllTextAsync(path, text[..at] + "43" + text[(at + 2)..]);
    }
}
