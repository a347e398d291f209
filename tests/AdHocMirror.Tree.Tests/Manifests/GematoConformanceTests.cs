using AdHocMirror.Testing;
using AdHocMirror.Tree.Manifests;
using AdHocMirror.Tree.OpenPgp;
using AdHocMirror.Tree.Versions;

namespace AdHocMirror.Tree.Tests.Manifests;

/// <summary>The tree made and signed by gemato (Gentoo's reference tool) must verify exactly as gemato says.</summary>
public sealed class GematoConformanceTests
{
    private static string Fixture(params string[] parts) => Path.Combine([Conformance.Directory!, "glep74-gemato", .. parts]);

    private static readonly ManifestTreeVerifier Verifier = new();

    private static TempDir CopyTree()
    {
        var temp = new TempDir("ahm-gemato");
        var source = Fixture("tree");
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(temp.Path, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
            if (!OperatingSystem.IsWindows())
            {
                // The fixtures are read-only; the copy must be writable to tamper with it.
                File.SetUnixFileMode(target, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
        }

        return temp;
    }

    [ConformanceFact]
    public async Task Verifies_with_the_test_key_and_yields_the_signed_TIMESTAMP()
    {
        await using var keyring = await OpenPgpKeyring.OpenAsync(Fixture("test-key.pub.asc"));
        var result = await Verifier.VerifyAsync(Fixture("tree"), keyring);
        Assert.True(result.Succeeded, result.Summary);
        Assert.Equal(TreeVersion.FromManifestTimestamp("2026-11-21T13:04:11Z"), result.Version);
        Assert.Equal((await File.ReadAllTextAsync(Fixture("test-key.fpr"))).Trim(), result.SignedBy);
    }

    [ConformanceFact]
    public async Task Fails_with_the_other_key()
    {
        await using var keyring = await OpenPgpKeyring.OpenAsync(Fixture("other-key.pub.asc"));
        var result = await Verifier.VerifyAsync(Fixture("tree"), keyring);
        Assert.False(result.Succeeded);
        Assert.Equal(TreeProblemKind.Signature, Assert.Single(result.Problems).Kind);
    }

    [ConformanceFact]
    public async Task Fails_after_any_byte_of_any_covered_file_changes()
    {
        await using var keyring = await OpenPgpKeyring.OpenAsync(Fixture("test-key.pub.asc"));
        using var copy = CopyTree();
        var covered = Directory.EnumerateFiles(copy.Path, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(copy.Path, f))
            .Where(f => !f.StartsWith("metadata/timestamp", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal).ToList();
        Assert.True(covered.Count >= 10);
        foreach (var file in covered)
        {
            var path = Path.Combine(copy.Path, file);
            var original = await File.ReadAllBytesAsync(path);
            foreach (var index in new[] { 0, original.Length / 2, original.Length - 1 })
            {
                var tampered = (byte[])original.Clone();
                tampered[index] ^= 0x20;
                await File.WriteAllBytesAsync(path, tampered);
                var result = await Verifier.VerifyAsync(copy.Path, keyring);
                Assert.False(result.Succeeded, $"{file} byte {index} changed, yet it verified");
                Assert.Contains(result.Problems, p => p.Path == file || (file == "Manifest" && p.Kind == TreeProblemKind.Signature));
            }

            await File.WriteAllBytesAsync(path, original);
        }

        Assert.True((await Verifier.VerifyAsync(copy.Path, keyring)).Succeeded);
    }

    [ConformanceFact]
    public async Task Fails_after_a_covered_file_is_removed()
    {
        await using var keyring = await OpenPgpKeyring.OpenAsync(Fixture("test-key.pub.asc"));
        using var copy = CopyTree();
        foreach (var file in new[] { "app-misc/hello/hello-1.ebuild", "licenses/MIT", "metadata/md5-cache/app-misc/hello-1", "eclass/Manifest.gz" })
        {
            var path = Path.Combine(copy.Path, file);
            var original = await File.ReadAllBytesAsync(path);
            File.Delete(path);
            var result = await Verifier.VerifyAsync(copy.Path, keyring);
            Assert.Contains(result.Problems, p => p.Path == file && p.Kind == TreeProblemKind.Missing);
            await File.WriteAllBytesAsync(path, original);
        }
    }

    [ConformanceFact]
    public async Task Fails_after_an_uncovered_file_is_added_but_not_inside_IGNOREd_paths()
    {
        await using var keyring = await OpenPgpKeyring.OpenAsync(Fixture("test-key.pub.asc"));
        using var copy = CopyTree();
        foreach (var file in new[] { "app-misc/hello/hello-2.ebuild", "app-misc/hello/files/evil.patch", "new-cat/x/x-1.ebuild", "metadata/evil", "profiles/package.mask.d/x" })
        {
            var path = Path.Combine(copy.Path, file);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await File.WriteAllTextAsync(path, "added");
            var result = await Verifier.VerifyAsync(copy.Path, keyring);
            Assert.Contains(result.Problems, p => p.Path == file && p.Kind == TreeProblemKind.Uncovered);
            File.Delete(path);
        }

        foreach (var file in new[] { "distfiles/foo.tar.gz", "packages/x.tbz2", "local/x", "metadata/timestamp.chk", "metadata/timestamp.commit" })
        {
            var path = Path.Combine(copy.Path, file);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await File.WriteAllTextAsync(path, "IGNOREd");
        }

        var ignored = await Verifier.VerifyAsync(copy.Path, keyring);
        Assert.True(ignored.Succeeded, ignored.Summary);
        Assert.Equal(TreeVersion.FromManifestTimestamp("2026-11-21T13:04:11Z"), ignored.Version);
    }
}
