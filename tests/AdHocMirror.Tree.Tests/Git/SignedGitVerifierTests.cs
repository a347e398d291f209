using AdHocMirror.Testing;
using AdHocMirror.Testing.Trees;
using AdHocMirror.Tree.Git;
using AdHocMirror.Tree.Manifests;
using AdHocMirror.Tree.OpenPgp;

namespace AdHocMirror.Tree.Tests.Git;

public sealed class SignedGitVerifierTests
{
    private static readonly SignedGitVerifier Verifier = new();
    private static readonly DateTimeOffset First = new(2026, 11, 21, 0, 45, 1, TimeSpan.Zero);

    [Fact]
    public async Task A_signed_head_verifies_with_committer_time_and_hash()
    {
        using var temp = new TempDir();
        var key = await TestSigningKey.SharedAsync();
        var commit = await GentooGitTree.CreateAsync(temp.Combine("repo"), new GentooTreeOptions { Files = 40, Timestamp = First }, key);
        await using var keyring = await OpenPgpKeyring.OpenAsync(key.PublicKeyFile);

        var result = await Verifier.VerifyAsync(temp.Combine("repo"), keyring);

        Assert.True(result.Succeeded, result.Summary);
        Assert.Equal(First, result.Version.Generated);
        Assert.Equal(commit, result.Version.Commit);
        Assert.Equal(key.Fingerprint, result.SignedBy);

        await GentooTree.NextVersionAsync(temp.Combine("repo"), seed: 5, changes: 10, First.AddHours(1), key: null);
        var next = await GentooGitTree.CommitAsync(temp.Combine("repo"), key, First.AddHours(1), "next");
        var newer = await Verifier.VerifyAsync(temp.Combine("repo"), keyring);
        Assert.True(newer.Version.IsNewerThan(result.Version));
        Assert.Equal(next, newer.Version.Commit);
    }

    [Fact]
    public async Task Unsigned_and_wrongly_signed_heads_are_refused()
    {
        using var temp = new TempDir();
        var key = await TestSigningKey.SharedAsync();
        var repo = temp.Combine("repo");
        await GentooGitTree.CreateAsync(repo, new GentooTreeOptions { Files = 20, Timestamp = First }, key);
        await using var keyring = await OpenPgpKeyring.OpenAsync(key.PublicKeyFile);

        await File.WriteAllTextAsync(Path.Combine(repo, "profiles/package.mask"), "unsigned change\n");
        await GentooGitTree.CommitAsync(repo, key: null, First.AddHours(1), "unsigned");
        var unsigned = await Verifier.VerifyAsync(repo, keyring);
        Assert.False(unsigned.Succeeded);
        Assert.Contains("not signed", Assert.Single(unsigned.Problems).Detail, StringComparison.Ordinal);

        using var other = await TestSigningKey.CreateAsync("Other Key");
        await File.WriteAllTextAsync(Path.Combine(repo, "profiles/package.mask"), "foreign change\n");
        await GentooGitTree.CommitAsync(repo, other, First.AddHours(2), "foreign");
        var foreign = await Verifier.VerifyAsync(repo, keyring);
        Assert.False(foreign.Succeeded);
        Assert.Equal(TreeProblemKind.Signature, Assert.Single(foreign.Problems).Kind);
        Assert.Null(foreign.SignedVersion);
    }

    [Fact]
    public async Task A_work_tree_that_differs_from_the_signed_commit_is_refused()
    {
        using var temp = new TempDir();
        var key = await TestSigningKey.SharedAsync();
        var repo = temp.Combine("repo");
        await GentooGitTree.CreateAsync(repo, new GentooTreeOptions { Files = 20, Timestamp = First }, key);
        await using var keyring = await OpenPgpKeyring.OpenAsync(key.PublicKeyFile);
        await File.AppendAllTextAsync(Path.Combine(repo, "profiles/package.mask"), "local edit\n");
        await File.WriteAllTextAsync(Path.Combine(repo, "profiles/extra"), "untracked\n");

        var result = await Verifier.VerifyAsync(repo, keyring);

        Assert.False(result.Succeeded);
        Assert.Contains(result.Problems, p => p.Path == "profiles/package.mask");
        Assert.Contains(result.Problems, p => p.Path == "profiles/extra" && p.Kind == TreeProblemKind.Uncovered);
    }

    [Fact]
    public async Task Untracked_files_of_the_machines_own_under_distfiles_packages_and_local_are_not_the_trees()
    {
        using var temp = new TempDir();
        var key = await TestSigningKey.SharedAsync();
        var repo = temp.Combine("repo");
        await GentooGitTree.CreateAsync(repo, new GentooTreeOptions { Files = 20, Timestamp = First }, key);
        await using var keyring = await OpenPgpKeyring.OpenAsync(key.PublicKeyFile);
        foreach (var path in new[] { "distfiles/foo-1.0.tar.gz", "packages/app-misc/foo-1.0.gpkg.tar", "local/README" })
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(repo, path))!);
            await File.WriteAllTextAsync(Path.Combine(repo, path), "mine\n");
        }

        var result = await Verifier.VerifyAsync(repo, keyring);
        Assert.True(result.Succeeded, result.Summary);

        Directory.CreateDirectory(Path.Combine(repo, "app-misc", "distfiles"));
        await File.WriteAllTextAsync(Path.Combine(repo, "app-misc", "distfiles", "not-top-level"), "planted\n");
        var planted = await Verifier.VerifyAsync(repo, keyring);
        Assert.Contains(planted.Problems, p => p.Path == "app-misc/distfiles/not-top-level" && p.Kind == TreeProblemKind.Uncovered);
    }
}
