using AdHocMirror.Contracts.V1;
using AdHocMirror.Daemon.Configuration;
using AdHocMirror.Daemon.Serving;
using AdHocMirror.Tree.Git;
using AdHocMirror.Tree.OpenPgp;
using AdHocMirror.Tree.Processes;
using AdHocMirror.Tree.Versions;
using Microsoft.Extensions.Logging;

using TreeVersion = AdHocMirror.Tree.Versions.TreeVersion;

namespace AdHocMirror.Daemon.Snapshots;

/// <summary>
/// The served git repository (bare, <c>TREE_DIR/git/gentoo.git</c>): upstream's head is fetched into a hidden ref,
/// its signature verified by the keyring and its time checked against the served one; only then does
/// <c>refs/heads/master</c> move to it (update-ref is atomic). git daemon advertises only the published refs.
/// </summary>
public sealed partial class GitSnapshotSource(
    DaemonOptions options,
    OpenPgpKeyring keyring,
    IProcessRunner runner,
    ServingSupervisor serving,
    ILogger<GitSnapshotSource> logger) : ISnapshotSource
{
    private const string IncomingRef = "refs/ahm/incoming";
    private const string ServedRef = "refs/heads/master";
    private readonly SignedGitVerifier _verifier = new(runner, options.GitProgram);
    private TreeVersion? _current;

    public Protocol Protocol => Protocol.Git;

    public string BasePath => Path.Combine(options.TreeDir, "git");

    public string Repository => Path.Combine(BasePath, DaemonOptions.GitRepository);

    public string? CurrentSnapshot => _current?.Commit;

    public void StartServing() => serving.StartGit(BasePath);

    public async Task<(TreeVersion Version, string Snapshot)?> RestoreAsync(CancellationToken cancellationToken)
    {
        await EnsureRepositoryAsync(cancellationToken);
        var head = await Git(["rev-parse", "--verify", "--quiet", ServedRef], cancellationToken);
        if (head.ExitCode != 0)
        {
            return null;
        }

        // Re-check the served head: the keyring may have changed since it was published.
        var verification = await _verifier.VerifyAsync(Repository, keyring, ServedRef, checkWorkTree: false, cancellationToken);
        if (!verification.Succeeded)
        {
            Log.ServedHeadBad(logger, verification.Summary);
            await Git(["update-ref", "-d", ServedRef], cancellationToken);
            return null;
        }

        _current = verification.Version;
        return (_current.Value, _current.Value.Commit!);
    }

    public async Task<SyncResult> SyncAsync(string upstream, TreeVersion? promised, CancellationToken cancellationToken)
    {
        await EnsureRepositoryAsync(cancellationToken);
        var fetch = await Git(["fetch", "--quiet", "--no-tags", "--force", "--no-write-fetch-head", upstream, "+HEAD:" + IncomingRef], cancellationToken, options.SyncTimeout);
        if (fetch.ExitCode != 0)
        {
            return SyncResult.Failed(SyncOutcome.Unreachable, $"git fetch from {upstream} exited {fetch.ExitCode}: {LastLine(fetch.StandardError)}");
        }

        try
        {
            var verification = await _verifier.VerifyAsync(Repository, keyring, IncomingRef, checkWorkTree: false, cancellationToken);
            if (!verification.Succeeded)
            {
                return SyncResult.Failed(SyncOutcome.VerificationFailed, $"head from {upstream} failed verification: {verification.Summary}");
            }

            var version = verification.Version;
            var verdict = RollbackGuard.Check(version, _current, promised);
            if (!verdict.Accepted)
            {
                return SyncResult.Failed(SyncOutcome.Rollback, $"head from {upstream} refused: {verdict.Reason}");
            }

            if (_current is { } current && current.Commit == version.Commit)
            {
                return new SyncResult(SyncResultKind.UpToDate, version, $"already serving {version}", SyncOutcome.Success);
            }

            var update = await Git(["update-ref", ServedRef, version.Commit!], cancellationToken);
            if (update.ExitCode != 0)
            {
                return SyncResult.Failed(SyncOutcome.Abandoned, $"cannot publish {version.Commit}: {LastLine(update.StandardError)}");
            }

            _current = version;
            Log.Published(logger, version.ToString());
            return new SyncResult(SyncResultKind.Published, version, $"published {version}", SyncOutcome.Success);
        }
        finally
        {
            await Git(["update-ref", "-d", IncomingRef], CancellationToken.None);
        }
    }

    private async Task EnsureRepositoryAsync(CancellationToken cancellationToken)
    {
        if (!File.Exists(Path.Combine(Repository, "HEAD")))
        {
            Directory.CreateDirectory(BasePath);
            var init = await runner.RunAsync(new ProcessSpec(options.GitProgram, ["init", "--quiet", "--bare", "--initial-branch=master", Repository]) { Environment = Environment() }, cancellationToken);
            if (init.ExitCode != 0)
            {
                throw new IOException($"git init {Repository} failed: {LastLine(init.StandardError)}");
            }
        }

        // Unverified objects may sit in the repository between fetch and publish; clients must never see their ref.
        await Git(["config", "uploadpack.hideRefs", "refs/ahm"], cancellationToken);
        await Git(["config", "core.logAllRefUpdates", "false"], cancellationToken);
        await Git(["symbolic-ref", "HEAD", ServedRef], cancellationToken);
        var exportOk = Path.Combine(Repository, "git-daemon-export-ok");
        if (!File.Exists(exportOk))
        {
            await File.WriteAllTextAsync(exportOk, string.Empty, cancellationToken);
        }
    }

    private Task<ProcessResult> Git(IReadOnlyList<string> arguments, CancellationToken cancellationToken, TimeSpan? timeout = null) =>
        runner.RunAsync(new ProcessSpec(options.GitProgram, ["-C", Repository, "-c", "safe.directory=*", "-c", "protocol.file.allow=always", .. arguments])
        {
            Environment = Environment(),
            Timeout = timeout ?? TimeSpan.FromMinutes(2),
        }, cancellationToken);

    private Dictionary<string, string?> Environment() => new()
    {
        ["GIT_CONFIG_NOSYSTEM"] = "1",
        ["GIT_CONFIG_GLOBAL"] = "/dev/null",
        ["GIT_TERMINAL_PROMPT"] = "0",
        ["LC_ALL"] = "C",
    };

    private static string LastLine(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "(no message)";

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "git head {Version} verified and published")]
        public static partial void Published(ILogger logger, string version);

        [LoggerMessage(2, LogLevel.Warning, "The served git head no longer verifies ({Detail}); not serving git until the next good sync")]
        public static partial void ServedHeadBad(ILogger logger, string detail);
    }
}
