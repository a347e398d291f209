using AdHocMirror.Contracts.V1;
using AdHocMirror.Tree.Apply;
using AdHocMirror.Tree.Git;
using AdHocMirror.Tree.Manifests;
using AdHocMirror.Tree.OpenPgp;
using AdHocMirror.Tree.Versions;
using TreeVersion = AdHocMirror.Tree.Versions.TreeVersion;

namespace AdHocMirror.Sync.Apply;

/// <summary>The distribution's signature decides: reads the installed tree's version, and verifies a staged tree.</summary>
public sealed class TreeCheck(Protocol protocol, OpenPgpKeyring keyring, string git, StagingOptions? staging = null)
{
    /// <summary>The keys trees are checked against.</summary>
    public OpenPgpKeyring Keyring => keyring;

    /// <summary>
    /// Repairs crash leftovers, then reads the installed tree's signed version. Null for no tree, or a tree whose
    /// signature does not hold (it is then replaced by the next verified one, as a fresh install would be).
    /// </summary>
    public async Task<(TreeVersion? Version, string? Problem)> ReadInstalledAsync(string repository, CancellationToken cancellationToken)
    {
        TreeSwap.Recover(repository, staging);
        if (protocol == Protocol.Git)
        {
            if (!Directory.Exists(Path.Combine(repository, ".git")))
            {
                return (null, Directory.Exists(repository) && Directory.EnumerateFileSystemEntries(repository).Any() ? "not a git checkout" : null);
            }

            var head = await new SignedGitVerifier(git: git).VerifyAsync(repository, keyring, checkWorkTree: false, cancellationToken: cancellationToken);
            return head.Succeeded ? (head.Version, null) : (null, head.Summary);
        }

        if (!File.Exists(Path.Combine(repository, "Manifest")))
        {
            return (null, Directory.Exists(repository) && Directory.EnumerateFileSystemEntries(repository).Any() ? "no signed top-level Manifest" : null);
        }

        var installed = await new ManifestTreeVerifier().ReadSignedVersionAsync(repository, keyring, cancellationToken);
        return installed.Succeeded ? (installed.Version, null) : (null, installed.Summary);
    }

    /// <summary>
    /// Full verification of a staged rsync tree (unchanged hard-linked files are skipped soundly, with listings read
    /// <paramref name="ahead"/> during the transfer when given, and hashes computed meanwhile taken from <paramref name="hashed"/>
    /// where the file is unchanged since), or of a fetched git commit.
    /// </summary>
    public Task<TreeVerification> VerifyStagedAsync(
        string staging, string? installed, string? revision, bool checkWorkTree, CancellationToken cancellationToken, ListingsAhead? ahead = null, FilesHashedAhead? hashed = null) =>
        protocol == Protocol.Git
            ? new SignedGitVerifier(git: git).VerifyAsync(staging, keyring, revision ?? "HEAD", checkWorkTree, cancellationToken)
            : new ManifestTreeVerifier(new ManifestVerifierOptions { UnchangedReference = installed, ListedAhead = ahead, HashedAhead = hashed }).VerifyAsync(staging, keyring, cancellationToken);
}
