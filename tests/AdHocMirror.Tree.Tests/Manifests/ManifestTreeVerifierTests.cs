using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using AdHocMirror.Testing;
using AdHocMirror.Testing.Trees;
using AdHocMirror.Tree.Manifests;
using AdHocMirror.Tree.Native;
using AdHocMirror.Tree.OpenPgp;

namespace AdHocMirror.Tree.Tests.Manifests;

public sealed class ManifestTreeVerifierTests
{
    private static readonly ManifestTreeVerifier Verifier = new();

    [Fact]
    public async Task A_good_tree_verifies_with_its_signed_timestamp_not_timestamp_chk()
    {
        await using var tree = await SignedTree.CreateAsync();
        await File.WriteAllTextAsync(tree.File("metadata/timestamp.chk"), "Sat, 01 Jan 2000 00:00:00 +0000\n");
        var result = await Verifier.VerifyAsync(tree.Path, tree.Keyring);
        Assert.True(result.Succeeded, result.Summary);
        Assert.Equal(tree.Options.Timestamp, result.Version.Generated);
        Assert.Equal(tree.Key.Fingerprint, result.SignedBy);
        Assert.Equal(GentooTree.ListContent(tree.Path).Count - 2, result.FilesChecked); // timestamp.chk and .x are IGNOREd
    }

    [Fact]
    public async Task The_signed_version_of_an_installed_tree_is_read_from_the_top_level_Manifest_alone()
    {
        await using var tree = await SignedTree.CreateAsync(files: 20);
        var version = await Verifier.ReadSignedVersionAsync(tree.Path, tree.Keyring);
        Assert.True(version.Succeeded, version.Summary);
        Assert.Equal(tree.Options.Timestamp, version.Version.Generated);
        Assert.Equal(0, version.FilesChecked);

        await File.WriteAllTextAsync(tree.File("Manifest"), (await File.ReadAllTextAsync(tree.File("Manifest"))).Replace("TIMESTAMP 2026-11-21T00:45:01Z", "TIMESTAMP 2027-01-01T00:00:00Z", StringComparison.Ordinal));
        var forged = await Verifier.ReadSignedVersionAsync(tree.Path, tree.Keyring);
        Assert.False(forged.Succeeded);
        Assert.Null(forged.SignedVersion);
    }

    [Fact]
    public async Task Every_mismatch_is_reported_by_path()
    {
        await using var tree = await SignedTree.CreateAsync(files: 120);
        var files = GentooTree.ListContent(tree.Path).Where(f => f.EndsWith(".ebuild", StringComparison.Ordinal)).ToList();
        var flipped = files[0];
        var resized = files[1];
        var removed = files[2];
        var bytes = await File.ReadAllBytesAsync(tree.File(flipped));
        bytes[bytes.Length / 2] ^= 0x01;
        await File.WriteAllBytesAsync(tree.File(flipped), bytes);
        await File.AppendAllTextAsync(tree.File(resized), "x");
        File.Delete(tree.File(removed));
        await File.WriteAllTextAsync(tree.File("app-misc/intruder.ebuild"), "evil");
        Directory.CreateDirectory(tree.File("distfiles"));
        await File.WriteAllTextAsync(tree.File("distfiles/ignored.tar.gz"), "not covered, but IGNOREd");
        await File.WriteAllTextAsync(tree.File("metadata/timestamp.chk"), "IGNOREd by metadata/Manifest.gz");
        Directory.CreateDirectory(tree.File(".git"));
        await File.WriteAllTextAsync(tree.File(".git/HEAD"), "hidden files are outside GLEP 74");

        var result = await Verifier.VerifyAsync(tree.Path, tree.Keyring);

        Assert.False(result.Succeeded);
        Assert.NotNull(result.SignedVersion);
        Assert.Equal(
            new[] { ("app-misc/intruder.ebuild", TreeProblemKind.Uncovered), (flipped, TreeProblemKind.HashMismatch), (removed, TreeProblemKind.Missing), (resized, TreeProblemKind.SizeMismatch) }
                .OrderBy(p => p.Item1, StringComparer.Ordinal),
            result.Problems.Select(p => (p.Path, p.Kind)));
    }

    [Fact]
    public async Task Unsigned_or_foreign_or_altered_top_level_Manifests_are_refused()
    {
        await using var tree = await SignedTree.CreateAsync();
        var signed = await File.ReadAllTextAsync(tree.File("Manifest"));

        using var otherKey = await TestSigningKey.CreateAsync("Other Key");
        await using (var other = await OpenPgpKeyring.OpenAsync(otherKey.PublicKeyFile))
        {
            var foreign = await Verifier.VerifyAsync(tree.Path, other);
            Assert.Equal(TreeProblemKind.Signature, Assert.Single(foreign.Problems).Kind);
            Assert.Null(foreign.SignedVersion);
        }

        var body = signed.Split("-----BEGIN PGP SIGNATURE-----")[0].Split("\n\n", 2)[1];
        await File.WriteAllTextAsync(tree.File("Manifest"), body);
        Assert.Equal(TreeProblemKind.Signature, Assert.Single((await Verifier.VerifyAsync(tree.Path, tree.Keyring)).Problems).Kind);

        await File.WriteAllTextAsync(tree.File("Manifest"), signed.Replace("TIMESTAMP 2026-11-21T00:45:01Z", "TIMESTAMP 2026-11-29T00:45:01Z", StringComparison.Ordinal));
        Assert.Equal(TreeProblemKind.Signature, Assert.Single((await Verifier.VerifyAsync(tree.Path, tree.Keyring)).Problems).Kind);

        File.Delete(tree.File("Manifest"));
        Assert.Equal(TreeProblemKind.Signature, Assert.Single((await Verifier.VerifyAsync(tree.Path, tree.Keyring)).Problems).Kind);
    }

    [Fact]
    public async Task A_changed_sub_Manifest_is_refused_even_when_its_files_match_it()
    {
        await using var tree = await SignedTree.CreateAsync();
        var ebuild = GentooTree.ListContent(tree.Path).First(f => f.EndsWith(".ebuild", StringComparison.Ordinal));
        var packageManifest = tree.File(Path.GetDirectoryName(ebuild)! + "/Manifest.gz");
        await File.AppendAllTextAsync(tree.File(ebuild), "# evil");
        await File.WriteAllBytesAsync(packageManifest, Gzip(Regenerate(Gunzip(packageManifest), Path.GetFileName(ebuild), tree.File(ebuild))));

        var result = await Verifier.VerifyAsync(tree.Path, tree.Keyring);
        Assert.Contains(result.Problems, p => p.Path == Path.GetRelativePath(tree.Path, packageManifest) && p.Kind is TreeProblemKind.HashMismatch or TreeProblemKind.SizeMismatch);
        Assert.False(result.Succeeded);
    }

    [Fact]
    public async Task Legacy_tags_plain_sub_Manifests_DIST_IGNORE_and_missing_SHA512_are_handled()
    {
        using var temp = new TempDir();
        var key = await TestSigningKey.SharedAsync();
        var root = temp.Combine("repo");
        Write(root, "cat/pkg/pkg-1.ebuild", "EAPI=8\n");
        Write(root, "cat/pkg/files/fix.patch", "--- a\n+++ b\n");
        Write(root, "cat/pkg/ChangeLog", "old\n");
        Write(root, "cat/pkg/work/scratch", "ignored\n");
        Write(root, "cat/other/other-1.ebuild", "EAPI=8\n");
        var pkg = string.Join('\n',
            $"EBUILD pkg-1.ebuild {Describe(root, "cat/pkg/pkg-1.ebuild")}",
            $"AUX fix.patch {Describe(root, "cat/pkg/files/fix.patch")}",
            $"MISC ChangeLog {Describe(root, "cat/pkg/ChangeLog")}",
            "DIST pkg-1.tar.gz 12345 SHA512 " + new string('0', 128),
            "IGNORE work") + "\n";
        Write(root, "cat/pkg/Manifest", pkg);
        var other = $"DATA other-1.ebuild 7 BLAKE2B {new string('0', 128)}\n";
        Write(root, "cat/other/Manifest", other);
        var top = $"MANIFEST cat/pkg/Manifest {Describe(root, "cat/pkg/Manifest")}\nMANIFEST cat/other/Manifest {Describe(root, "cat/other/Manifest")}\nTIMESTAMP 2026-11-21T10:00:00Z\n";
        await File.WriteAllTextAsync(Path.Combine(root, "Manifest"), await key.ClearSignAsync(top));
        await using var keyring = await OpenPgpKeyring.OpenAsync(key.PublicKeyFile);

        var result = await Verifier.VerifyAsync(root, keyring);

        var problem = Assert.Single(result.Problems);
        Assert.Equal(("cat/other/other-1.ebuild", TreeProblemKind.UnsupportedHash), (problem.Path, problem.Kind));
        Assert.Equal(3, result.FilesChecked);

        await File.AppendAllTextAsync(Path.Combine(root, "cat/pkg/files/fix.patch"), "tampered");
        Assert.Contains((await Verifier.VerifyAsync(root, keyring)).Problems, p => p.Path == "cat/pkg/files/fix.patch" && p.Kind == TreeProblemKind.SizeMismatch);
    }

    [Fact]
    public async Task A_FIFO_or_directory_where_a_file_should_be_is_refused_without_hanging()
    {
        await using var tree = await SignedTree.CreateAsync(files: 30);
        var ebuild = GentooTree.ListContent(tree.Path).First(f => f.EndsWith(".ebuild", StringComparison.Ordinal));
        var subManifest = Path.GetDirectoryName(ebuild) + "/Manifest.gz";
        File.Delete(tree.File(ebuild));
        (await ExternalProcess.RunAsync("mkfifo", [tree.File(ebuild)])).EnsureSuccess("mkfifo");
        var other = GentooTree.ListContent(tree.Path).First(f => f.StartsWith("eclass/", StringComparison.Ordinal));
        File.Delete(tree.File(other));
        Directory.CreateDirectory(tree.File(other));

        var result = await Verifier.VerifyAsync(tree.Path, tree.Keyring).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Contains(result.Problems, p => p.Path == ebuild && p.Kind == TreeProblemKind.Unreadable);
        Assert.Contains(result.Problems, p => p.Path == other && p.Kind == TreeProblemKind.Missing);

        File.Delete(tree.File(subManifest));
        (await ExternalProcess.RunAsync("mkfifo", [tree.File(subManifest)])).EnsureSuccess("mkfifo");
        var again = await Verifier.VerifyAsync(tree.Path, tree.Keyring).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Contains(again.Problems, p => p.Path == subManifest && p.Kind == TreeProblemKind.Unreadable);
    }

    [Theory]
    [InlineData("DATA ../escape 1 SHA512 00")]
    [InlineData("FROB x 1")]
    public async Task Malformed_or_escaping_entries_are_refused(string line)
    {
        using var temp = new TempDir();
        var key = await TestSigningKey.SharedAsync();
        var root = temp.Combine("repo");
        Directory.CreateDirectory(root);
        await File.WriteAllTextAsync(Path.Combine(root, "Manifest"), await key.ClearSignAsync($"{line}\nTIMESTAMP 2026-11-21T10:00:00Z\n"));
        await using var keyring = await OpenPgpKeyring.OpenAsync(key.PublicKeyFile);
        var result = await Verifier.VerifyAsync(root, keyring);
        Assert.Contains(result.Problems, p => p.Kind == TreeProblemKind.MalformedManifest);
    }

    [Fact]
    public async Task Skip_unchanged_hashes_only_what_is_not_a_proven_hard_link()
    {
        await using var tree = await SignedTree.CreateAsync(files: 200);
        var staging = await tree.HardLinkCloneAsync();
        var changes = await GentooTree.NextVersionAsync(staging, seed: 9, changes: 20, new DateTimeOffset(2026, 11, 22, 0, 0, 0, TimeSpan.Zero), tree.Key);
        var staySame = GentooTree.ListContent(staging).First(f => f.EndsWith(".ebuild", StringComparison.Ordinal) && !changes.Changed.Contains(f) && !changes.Added.Contains(f));

        var skipping = new ManifestTreeVerifier(new ManifestVerifierOptions { UnchangedReference = tree.Path });
        var result = await skipping.VerifyAsync(staging, tree.Keyring);
        Assert.True(result.Succeeded, result.Summary);
        Assert.True(result.FilesSkipped > 100, $"skipped {result.FilesSkipped}");
        Assert.True(result.FilesChecked >= changes.Changed.Count(c => !c.StartsWith("metadata/timestamp", StringComparison.Ordinal)) + changes.Added.Count);

        // A hard link shares the inode, so corrupting it in place corrupts the reference too: the expected hashes
        // still match in both Manifests, which is exactly what the rule trusts. A file replaced by a new inode,
        // however, is always hashed.
        File.Delete(Path.Combine(staging, staySame));
        await File.WriteAllTextAsync(Path.Combine(staging, staySame), "replaced");
        var replaced = await skipping.VerifyAsync(staging, tree.Keyring);
        Assert.Contains(replaced.Problems, p => p.Path == staySame);
    }

    [Fact]
    public async Task Skip_unchanged_does_not_reread_sub_Manifests_shared_with_the_reference_and_still_hashes_every_new_inode()
    {
        await using var tree = await SignedTree.CreateAsync(files: 200);
        var staging = await tree.HardLinkCloneAsync();
        var changes = await GentooTree.NextVersionAsync(staging, seed: 9, changes: 20, new DateTimeOffset(2026, 11, 22, 0, 0, 0, TimeSpan.Zero), tree.Key);
        var shared = LinkUnchangedManifests(staging, tree.Path);
        Assert.True(shared > 10, $"only {shared} Manifests unchanged");
        var skipping = new ManifestTreeVerifier(new ManifestVerifierOptions { UnchangedReference = tree.Path });
        var result = await skipping.VerifyAsync(staging, tree.Keyring);
        Assert.True(result.Succeeded, result.Summary);
        Assert.True(result.FilesSkipped > 100, $"skipped {result.FilesSkipped}");
        Assert.True(result.FilesChecked >= changes.Changed.Count(c => !c.StartsWith("metadata/timestamp", StringComparison.Ordinal)) + changes.Added.Count);

        // A file a shared Manifest declares, replaced by a new inode, is hashed, and a wrong one refused.
        var unchanged = GentooTree.ListContent(staging)
            .First(f => f.EndsWith(".ebuild", StringComparison.Ordinal) && !changes.Changed.Contains(f) && !changes.Added.Contains(f)
                && File.Exists(Path.Combine(staging, Path.GetDirectoryName(f)!, "Manifest.gz"))
                && SameInode(Path.Combine(staging, Path.GetDirectoryName(f)!, "Manifest.gz"), Path.Combine(tree.Path, Path.GetDirectoryName(f)!, "Manifest.gz")));
        File.Delete(Path.Combine(staging, unchanged));
        await File.WriteAllTextAsync(Path.Combine(staging, unchanged), "replaced by the mirror");
        var replaced = await skipping.VerifyAsync(staging, tree.Keyring);
        Assert.Contains(replaced.Problems, p => p.Path == unchanged && p.Kind is TreeProblemKind.HashMismatch or TreeProblemKind.SizeMismatch);
        Assert.Equal(result.FilesChecked + 1, replaced.FilesChecked);
    }

    [Fact]
    public async Task Unchanged_directories_are_proven_by_their_listings_yet_a_file_planted_in_one_is_found()
    {
        await using var tree = await SignedTree.CreateAsync(files: 200);
        var staging = await tree.HardLinkCloneAsync();
        var changes = await GentooTree.NextVersionAsync(staging, seed: 9, changes: 5, new DateTimeOffset(2026, 11, 22, 0, 0, 0, TimeSpan.Zero), tree.Key);
        LinkUnchangedManifests(staging, tree.Path);
        var skipping = new ManifestTreeVerifier(new ManifestVerifierOptions { UnchangedReference = tree.Path });
        var result = await skipping.VerifyAsync(staging, tree.Keyring);
        Assert.True(result.Succeeded, result.Summary);
        Assert.NotNull(result.Delta);
        Assert.True(result.FilesChecked <= 20, $"hashed {result.FilesChecked}");
        Assert.True(result.FilesSkipped > 150, $"skipped {result.FilesSkipped}");
        Assert.Contains(result.Delta.Directories, d => changes.Changed.Concat(changes.Added).Any(c => Path.GetDirectoryName(c) == d.Directory));

        var untouched = GentooTree.ListContent(staging).Select(Path.GetDirectoryName)
            .First(d => d!.Count(c => c == '/') == 1 && !changes.Changed.Concat(changes.Added).Any(c => c.StartsWith(d + "/", StringComparison.Ordinal)))!;
        await File.WriteAllTextAsync(Path.Combine(staging, untouched, "planted-1.0.ebuild"), "planted by the mirror");
        var planted = await skipping.VerifyAsync(staging, tree.Keyring);
        Assert.Contains(planted.Problems, p => p.Path == untouched + "/planted-1.0.ebuild" && p.Kind == TreeProblemKind.Uncovered);
    }

    [Fact]
    public async Task A_directory_the_reference_IGNOREd_is_hashed_even_when_every_inode_is_shared()
    {
        await using var tree = await SignedTree.CreateAsync(files: 200);
        var staging = await tree.HardLinkCloneAsync();
        var file = GentooTree.ListContent(tree.Path).First(f => f.EndsWith(".ebuild", StringComparison.Ordinal));
        var directory = Path.GetDirectoryName(file)!;

        // The reference never verified that directory: its (own, new) top-level Manifest IGNOREs it.
        var body = ClearSignedText.TryGetBody(await File.ReadAllBytesAsync(tree.File("Manifest")), out _)!;
        File.Delete(tree.File("Manifest"));
        await File.WriteAllTextAsync(tree.File("Manifest"), await tree.Key.ClearSignAsync(string.Join('\n', body.Prepend($"IGNORE {directory}")).TrimEnd('\n') + "\n"));

        // So a file there changed in place (the shared inode) must be hashed, not trusted.
        await File.WriteAllTextAsync(Path.Combine(staging, file), "changed where the reference did not look");
        var result = await new ManifestTreeVerifier(new ManifestVerifierOptions { UnchangedReference = tree.Path }).VerifyAsync(staging, tree.Keyring);
        Assert.Contains(result.Problems, p => p.Path == file && p.Kind is TreeProblemKind.HashMismatch or TreeProblemKind.SizeMismatch);
    }

    /// <summary>As rsync leaves a tree when upstream did not rewrite its unchanged Manifests: those are hard links to the reference's.</summary>
    private static int LinkUnchangedManifests(string staging, string reference)
    {
        var shared = 0;
        foreach (var manifest in Directory.EnumerateFiles(staging, "Manifest*", SearchOption.AllDirectories).Where(m => Path.GetRelativePath(staging, m) != "Manifest"))
        {
            var old = Path.Combine(reference, Path.GetRelativePath(staging, manifest));
            if (File.Exists(old) && File.ReadAllBytes(old).AsSpan().SequenceEqual(File.ReadAllBytes(manifest)))
            {
                File.Delete(manifest);
                Link(old, manifest);
                shared++;
            }
        }

        return shared;
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "link")]
    private static extern int LinkNative([System.Runtime.InteropServices.MarshalAs(System.Runtime.InteropServices.UnmanagedType.LPUTF8Str)] string existing, [System.Runtime.InteropServices.MarshalAs(System.Runtime.InteropServices.UnmanagedType.LPUTF8Str)] string created);

    private static void Link(string existing, string created) => Assert.Equal(0, LinkNative(existing, created));

    private static bool SameInode(string a, string b) =>
        FileIdentity.TryGet(a, out var x) && FileIdentity.TryGet(b, out var y) && x.Inode == y.Inode && x.Device == y.Device;

    private static void Write(string root, string relative, string text)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(root, relative))!);
        File.WriteAllText(Path.Combine(root, relative), text);
    }

    private static string Describe(string root, string relative)
    {
        var data = File.ReadAllBytes(Path.Combine(root, relative));
        return $"{data.Length} SHA512 {Convert.ToHexStringLower(SHA512.HashData(data))}";
    }

    private static string Regenerate(string manifest, string name, string file)
    {
        var data = File.ReadAllBytes(file);
        return string.Join('\n', manifest.Split('\n').Select(l => l.StartsWith($"DATA {name} ", StringComparison.Ordinal)
            ? $"DATA {name} {data.Length} SHA512 {Convert.ToHexStringLower(SHA512.HashData(data))}" : l));
    }

    private static string Gunzip(string path)
    {
        using var gzip = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        using var reader = new StreamReader(gzip, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    private static byte[] Gzip(string text)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(Encoding.UTF8.GetBytes(text));
        }

        return output.ToArray();
    }
}
