using System.Globalization;
using AdHocMirror.Tree.Apply;
using AdHocMirror.Tree.Manifests;
using AdHocMirror.Tree.OpenPgp;
using AdHocMirror.Tree.Processes;
using AdHocMirror.Tree.Versions;

namespace AdHocMirror.Tree.Git;

/// <summary>
/// Verifies a git tree by its head commit: <c>git verify-commit --raw</c> runs the real gpg in the keyring's throwaway
/// home, and its status lines must show a good signature by a key of the keyring (unsigned or wrongly signed heads are
/// refused). The version is the commit's committer time and hash. For a work tree, the checkout must also match the
/// commit (no modified, deleted or untracked files), since the signature covers the commit, not the files on disk.
/// </summary>
public sealed class SignedGitVerifier(IProcessRunner? runner = null, string git = "git")
{
    private readonly IProcessRunner _runner = runner ?? ProcessRunner.Instance;

    /// <summary>Verifies <paramref name="revision"/> (default HEAD) of the repository at <paramref name="repository"/>.</summary>
    public async Task<TreeVerification> VerifyAsync(string repository, OpenPgpKeyring keyring, string revision = "HEAD", bool checkWorkTree = true, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keyring);
        var started = DateTime.UtcNow;
        TreeVerification Fail(string detail) => new()
        {
            Problems = [new TreeProblem(revision, TreeProblemKind.Signature, detail)],
            Elapsed = DateTime.UtcNow - started,
        };

        var resolved = await Git(repository, keyring, ["rev-parse", "--verify", "--quiet", revision + "^{commit}"], cancellationToken);
        if (resolved.ExitCode != 0)
        {
            return Fail($"no commit '{revision}' in {repository}");
        }

        var commit = resolved.StandardOutput.Trim();
        var verify = await Git(repository, keyring, ["verify-commit", "--raw", commit], cancellationToken);
        var signature = SignatureCheck.FromGpgStatus(verify.StandardError, keyring.Fingerprints);
        if (!signature.IsGood)
        {
            var detail = verify.StandardError.Contains("[GNUPG:]", StringComparison.Ordinal) ? signature.Detail : "commit is not signed";
            return Fail($"head {commit}: {detail}");
        }

        var shown = await Git(repository, keyring, ["show", "-s", "--format=%ct", commit], cancellationToken);
        if (shown.ExitCode != 0 || !long.TryParse(shown.StandardOutput.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            return Fail($"cannot read the committer time of {commit}");
        }

        var version = new TreeVersion(DateTimeOffset.FromUnixTimeSeconds(seconds), commit);
        var problems = new List<TreeProblem>();
        if (checkWorkTree)
        {
            var bare = await Git(repository, keyring, ["rev-parse", "--is-bare-repository"], cancellationToken);
            if (bare.StandardOutput.Trim() == "false")
            {
                var head = await Git(repository, keyring, ["rev-parse", "HEAD"], cancellationToken);
                if (head.StandardOutput.Trim() != commit)
                {
                    problems.Add(new TreeProblem(".", TreeProblemKind.Conflict, $"work tree is at {head.StandardOutput.Trim()}, not {commit}"));
                }

                var status = await Git(repository, keyring, ["status", "--porcelain=v1", "-z", "--untracked-files=all"], cancellationToken);
                foreach (var item in status.StandardOutput.Split('\0', StringSplitOptions.RemoveEmptyEntries))
                {
                    // Untracked files of the machine's own (DISTDIR and the like under an older install's repository)
                    // are not the tree's, as an rsync tree's Manifest IGNOREs them.
                    if (item.Length > 3 && !(item.StartsWith("??", StringComparison.Ordinal) && LocalData.Contains(item[3..])))
                    {
                        var kind = item.StartsWith("??", StringComparison.Ordinal) ? TreeProblemKind.Uncovered
                            : item.Contains('D', StringComparison.Ordinal) ? TreeProblemKind.Missing : TreeProblemKind.HashMismatch;
                        problems.Add(new TreeProblem(item[3..], kind, $"work tree differs from {commit} ({item[..2].Trim()})"));
                    }
                }
            }
        }

        return new TreeVerification
        {
            Problems = problems,
            SignedVersion = version,
            SignedBy = signature.PrimaryKeyFingerprint,
            Elapsed = DateTime.UtcNow - started,
        };
    }

    private Task<ProcessResult> Git(string repository, OpenPgpKeyring keyring, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var environment = new Dictionary<string, string?>(keyring.Environment)
        {
            ["GIT_CONFIG_NOSYSTEM"] = "1",
            ["GIT_CONFIG_GLOBAL"] = "/dev/null",
            ["GIT_TERMINAL_PROMPT"] = "0",
        };

        // Command-line -c wins over any config in the repository, so a mirror cannot pick the gpg program.
        return _runner.RunAsync(new ProcessSpec(git,
            ["-C", repository, "-c", "gpg.format=openpgp", "-c", "gpg.program=" + keyring.GpgProgram, "-c", "safe.directory=*", "-c", "core.fsmonitor=false", .. arguments])
        {
            Environment = environment,
            Timeout = TimeSpan.FromMinutes(2),
        }, cancellationToken);
    }
}
