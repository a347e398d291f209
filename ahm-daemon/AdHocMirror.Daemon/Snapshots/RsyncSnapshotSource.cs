using System.Text.RegularExpressions;
using AdHocMirror.Contracts.V1;
using AdHocMirror.Daemon.Configuration;
using AdHocMirror.Daemon.Serving;
using AdHocMirror.Tree.Manifests;
using AdHocMirror.Tree.OpenPgp;
using AdHocMirror.Tree.Processes;
using AdHocMirror.Tree.Rsync;
using AdHocMirror.Tree.Snapshots;
using AdHocMirror.Tree.Versions;
using Microsoft.Extensions.Logging;

using TreeVersion = AdHocMirror.Tree.Versions.TreeVersion;

namespace AdHocMirror.Daemon.Snapshots;

/// <summary>
/// rsync snapshots: <c>rsync</c> with portage's options into a new directory that hard-links unchanged files from the
/// current snapshot (--link-dest), GLEP 74 verification against the keyring, rollback check, atomic publish.
/// </summary>
public sealed partial class RsyncSnapshotSource(
    DaemonOptions options,
    SnapshotStore store,
    OpenPgpKeyring keyring,
    IProcessRunner runner,
    ServingSupervisor serving,
    ILogger<RsyncSnapshotSource> logger) : ISnapshotSource
{
    public Protocol Protocol => Protocol.Rsync;

    public string? CurrentSnapshot => store.Current?.Id;

    public Task<(TreeVersion Version, string Snapshot)?> RestoreAsync(CancellationToken cancellationToken)
    {
        // Published snapshots were verified before publishing and are never modified afterwards.
        var current = store.Current;
        return Task.FromResult(current is null ? ((TreeVersion, string)?)null : (current.Version, current.Id));
    }

    public void StartServing() => serving.StartRsync(store.CurrentPath);

    public async Task<SyncResult> SyncAsync(string upstream, TreeVersion? promised, CancellationToken cancellationToken)
    {
        var incoming = store.BeginIncoming();
        var published = false;
        try
        {
            var fetch = await runner.RunAsync(new ProcessSpec(options.RsyncProgram, PortageRsync.Arguments(upstream, incoming.Path, incoming.LinkDest))
            {
                Timeout = options.SyncTimeout,
                Environment = new Dictionary<string, string?> { ["LC_ALL"] = "C", ["RSYNC_PASSWORD"] = null },
            }, cancellationToken);
            if (fetch.ExitCode != 0)
            {
                return SyncResult.Failed(SyncOutcome.Unreachable, $"rsync from {upstream} exited {fetch.ExitCode}: {LastLine(fetch.StandardError)}");
            }

            var bytes = ReceivedBytes(fetch.StandardOutput);
            var verifier = new ManifestTreeVerifier(new ManifestVerifierOptions { UnchangedReference = incoming.LinkDest });
            var verification = await verifier.VerifyAsync(incoming.Path, keyring, cancellationToken);
            if (!verification.Succeeded)
            {
                return SyncResult.Failed(SyncOutcome.VerificationFailed, $"tree from {upstream} failed verification: {verification.Summary}");
            }

            var version = verification.Version;
            var current = store.Current;
            var verdict = RollbackGuard.Check(version, current?.Version, promised);
            if (!verdict.Accepted)
            {
                return SyncResult.Failed(SyncOutcome.Rollback, $"tree from {upstream} refused: {verdict.Reason}");
            }

            if (current is not null && version == current.Version)
            {
                return new SyncResult(SyncResultKind.UpToDate, version, $"already serving {version}", SyncOutcome.Success, bytes);
            }

            var snapshot = store.Publish(incoming, version);
            published = true;
            Log.Verified(logger, version.ToString(), verification.FilesChecked, verification.FilesSkipped, verification.Elapsed.TotalMilliseconds);
            TryPrune();
            return new SyncResult(SyncResultKind.Published, version, $"published {snapshot.Id} ({version})", SyncOutcome.Success, bytes);
        }
        finally
        {
            if (!published)
            {
                store.Discard(incoming);
            }
        }
    }

    private void TryPrune()
    {
        try
        {
            store.Prune();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Log.PruneFailed(logger, e.Message);
        }
    }

    private static string LastLine(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "(no message)";

    private static long ReceivedBytes(string stats)
    {
        // --stats --human-readable: "Total bytes received: 1.23K"
        var match = TotalReceived().Match(stats);
        if (!match.Success || !double.TryParse(match.Groups[1].Value.Replace(",", string.Empty, StringComparison.Ordinal), System.Globalization.CultureInfo.InvariantCulture, out var number))
        {
            return 0;
        }

        var factor = match.Groups[2].Value switch { "K" => 1e3, "M" => 1e6, "G" => 1e9, "T" => 1e12, _ => 1 };
        return (long)(number * factor);
    }

    [GeneratedRegex(@"Total bytes received: ([\d.,]+)([KMGT]?)")]
    private static partial Regex TotalReceived();

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "rsync tree {Version} verified: {Files} files hashed, {Skipped} unchanged, {Ms:F0} ms")]
        public static partial void Verified(ILogger logger, string version, long files, long skipped, double ms);

        [LoggerMessage(2, LogLevel.Warning, "Could not prune old snapshots: {Detail}")]
        public static partial void PruneFailed(ILogger logger, string detail);
    }
}
