using System.Diagnostics;
using System.Globalization;
using AdHocMirror.Contracts;
using AdHocMirror.Contracts.V1;
using AdHocMirror.Hosting;
using AdHocMirror.Sync.Apply;
using AdHocMirror.Sync.Configuration;
using AdHocMirror.Sync.Discovery;
using AdHocMirror.Sync.Reporting;
using AdHocMirror.Sync.Transfer;
using AdHocMirror.Tree.Apply;
using AdHocMirror.Tree.Manifests;
using AdHocMirror.Tree.OpenPgp;
using AdHocMirror.Tree.Processes;
using AdHocMirror.Tree.Versions;
using TreeVersion = AdHocMirror.Tree.Versions.TreeVersion;
using MatchingClient = AdHocMirror.Contracts.V1.Matching.MatchingClient;
using AdHocMirror.Clients;

namespace AdHocMirror.Sync.Flow;

/// <summary>
/// One run of ahm-sync (DESIGN.md "Sync client"): lock → installed version → FindMirror → RTT probe → for each
/// candidate, then each official mirror: transfer into staging, verify, rollback/freeze check, atomic swap, ReportSync.
/// The installed tree is only ever replaced by a verified one, in one rename.
/// </summary>
public sealed class RepositorySync(SyncOptions options, TerminalOutput output, MatchingClient? matching)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public async Task<SyncResult> RunAsync(CancellationToken cancellationToken)
    {
        var repository = options.Repository;
        var protocolName = options.Protocol == Protocol.Git ? "git" : "rsync";
        using var held = SyncLock.TryAcquire(repository);
        if (held is null)
        {
            return Finish("locked", ExitCodes.Locked, $"another ahm-sync (or emerge --sync) is updating {repository} (lock {SyncLock.PathFor(repository)} is held); wait for it to finish and run again");
        }

        // Under the lock: children a hard-killed earlier run left behind (an rsync still writing into its staging dir)
        // are ended before recovery removes what they write into. Every child of this run is recorded here.
        using var ledger = ChildLedger.Open(SyncLock.ChildLedgerPathFor(repository));
        ChildLedger.Current = ledger;
        // rsync: the replaced tree is kept as the spare and updated in place by the next sync (git fetches into its own clone).
        var stagingOptions = new StagingOptions { RemoveInBackground = options.RemoveOldTreeInBackground, KeepSpare = options.Protocol == Protocol.Rsync };

        OpenPgpKeyring keyring;
        try
        {
            keyring = await OpenPgpKeyring.OpenAsync(options.Keyring, gpg: options.Gpg, cancellationToken: cancellationToken);
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or System.ComponentModel.Win32Exception)
        {
            return Finish("configuration_error", ExitCodes.Usage, $"keyring: cannot use {options.Keyring}: {e.Message}");
        }

        await using (keyring)
        {
            var check = new TreeCheck(options.Protocol, keyring, options.Git, stagingOptions);
            TreeVersion? current;
            try
            {
                var (installed, problem) = await check.ReadInstalledAsync(repository, cancellationToken);
                current = installed;
                if (problem is not null)
                {
                    output.Warn($"the tree at {repository} does not verify ({problem}); it will be replaced by a verified {protocolName} tree");
                }
            }
            catch (IOException e)
            {
                return Finish("locked", ExitCodes.Locked, $"{repository} is being updated by another process ({e.Message}); wait for it to finish and run again");
            }

            output.Step($"{options.RepositoryName} at {repository}: {(current is { } v ? "version " + v : "no verified tree yet")}");
            var plan = await new MirrorDiscovery(options, matching, output.Step).FindAsync(current, cancellationToken);
            if (plan.CoordinatorRefused)
            {
                output.Warn($"coordinator {options.Coordinator}: {plan.CoordinatorError}; syncing from the official mirrors directly");
            }
            else if (!plan.CoordinatorReachable && options.Coordinator is not null)
            {
                output.Warn($"coordinator {options.Coordinator} is unreachable ({plan.CoordinatorError}); syncing from the official mirrors directly");
            }

            if (plan.UpToDate && current is not null)
            {
                return Finish("up_to_date", ExitCodes.Success, $"{options.RepositoryName} is up to date (version {current}); nothing transferred", current, current, plan);
            }

            var candidates = await new RoundTripProbe(options.ProbeCount, options.ProbeTimeout).ReorderAsync(plan.Candidates, cancellationToken);
            if (candidates.Count > 0)
            {
                output.Step($"coordinator offers {candidates.Count} mirror(s): {string.Join(", ", candidates.Select(c => c.Place is { Length: > 0 } p ? p : c.Uri))}");
            }

            var attempts = new List<SyncAttempt>();
            var reporter = new LeaseReporter(matching, options.Protocol, options.CoordinatorTimeout);
            foreach (var source in candidates.Concat(plan.Official))
            {
                Attempted attempt;
                try
                {
                    attempt = await TryAsync(source, current, check, reporter, stagingOptions, cancellationToken);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    await reporter.ReportAsync(source, SyncOutcome.Abandoned, 0, TimeSpan.Zero, null, "interrupted");
                    return Finish("interrupted", ExitCodes.Interrupted, $"interrupted; {repository} is unchanged ({Describe(current)})", current, null, plan, attempts);
                }
                catch (IOException e) when (e.Message.Contains("is being updated by another process", StringComparison.Ordinal))
                {
                    return Finish("locked", ExitCodes.Locked, $"{e.Message}; wait for it to finish and run again", current, null, plan, attempts);
                }

                attempts.Add(attempt.Record);
                if (attempt.Installed is { } installedVersion)
                {
                    var hookFailures = attempt.Changed && options.RunPostSyncHooks
                        ? await new PostSyncHooks(options.PostSyncDirectory, TimeSpan.FromHours(1)).RunAsync(options.RepositoryName, source.Uri, repository, cancellationToken)
                        : [];
                    foreach (var failure in hookFailures)
                    {
                        output.Warn("postsync hook " + failure);
                    }

                    var from = source.IsOfficial ? "official mirror " + source.Uri : "mirror " + source.Uri + (source.Place is { Length: > 0 } p ? $" ({p})" : string.Empty);
                    var message = attempt.Changed
                        ? $"synced {options.RepositoryName} to {installedVersion} from {from}: {TerminalOutput.Size(attempt.Record.BytesReceived)} received, verified, in {_clock.Elapsed.TotalSeconds:0.0} s"
                        : $"{options.RepositoryName} is up to date (version {installedVersion}, confirmed by {from})";
                    return Finish(attempt.Changed ? "synced" : "up_to_date", ExitCodes.Success, message, current, installedVersion, plan, attempts, source, hookFailures);
                }
            }

            var refused = attempts.Any(a => a.Outcome is "verification_failed" or "rollback" or "stale");
            var tried = attempts.Count == 0 ? "no source was available (no candidates and no official mirror configured)" : $"all {attempts.Count} source(s) failed";
            return refused
                ? Finish("verification_refused", ExitCodes.VerificationRefused,
                    $"{tried}, and the trees received did not verify or were older than promised; {repository} is unchanged ({Describe(current)}). Check the keyring ({options.Keyring}) is current, then try again later",
                    current, null, plan, attempts)
                : Finish("no_usable_source", ExitCodes.NoUsableSource,
                    $"{tried}: no mirror could be reached; {repository} is unchanged ({Describe(current)}). Check the network and --official URIs, then try again",
                    current, null, plan, attempts);
        }
    }

    private sealed record Attempted(SyncAttempt Record, TreeVersion? Installed, bool Changed);

    private async Task<Attempted> TryAsync(SyncSource source, TreeVersion? current, TreeCheck check, LeaseReporter reporter, StagingOptions stagingOptions, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        output.Step($"trying {source.Describe()}{(source.RoundTrip is { } rtt ? $", round trip {rtt.TotalMilliseconds:0.#} ms" : string.Empty)}");
        using var staging = StagingArea.Create(options.Repository, stagingOptions);
        long bytes = 0;
        long files = 0;

        async Task<Attempted> Fail(SyncOutcome outcome, string detail, TreeVersion? verified = null)
        {
            var reported = await reporter.ReportAsync(source, outcome, bytes, watch.Elapsed, verified, detail);
            output.Warn($"{source.Describe()}: {detail}; {(source.IsOfficial ? "trying the next official mirror" : "trying the next source")}");
            return new Attempted(Record(source, outcome, detail, bytes, files, watch.Elapsed, verified, reported), null, false);
        }

        // rsync leaves most of a core idle: files are hashed as they arrive, and the listings that verification compares
        // are read meanwhile.
        await using var hashing = options.Protocol == Protocol.Rsync && options.HashWhileReceiving ? FilesHashedAhead.Start(staging.Path, check.Keyring, idle: true) : null;
        ITreeTransfer transfer = options.Protocol == Protocol.Git ? new GitTransfer(options) : new RsyncTransfer(options, hashing);
        await using var ahead = options.Protocol == Protocol.Rsync && staging.Installed is { } installed ? ListingsAhead.Start(staging.Path, installed) : null;
        var fetched = await transfer.FetchAsync(source.Uri, staging.Path, staging.LinkDest, output.ProgressFor(source.Place is { Length: > 0 } place ? place : source.Uri), cancellationToken);
        ahead?.Hurry();
        if (!fetched.Succeeded)
        {
            return await Fail(fetched.FailureOutcome, fetched.Detail ?? "transfer failed");
        }

        bytes = fetched.BytesReceived;
        files = fetched.FilesTransferred;
        output.Step(fetched.ProgramElapsed > TimeSpan.Zero
            ? $"received {TerminalOutput.Size(bytes)} ({files:N0} files) in {watch.Elapsed.TotalSeconds:0.0} s (rsync {fetched.ProgramElapsed.TotalSeconds:0.00} s); verifying"
            : $"received {TerminalOutput.Size(bytes)} in {watch.Elapsed.TotalSeconds:0.0} s; verifying");
        var verification = await check.VerifyStagedAsync(staging.Path, staging.Installed, options.Protocol == Protocol.Git ? GitTransfer.FetchedRef : null, checkWorkTree: false, cancellationToken, ahead, hashing);
        if (!verification.Succeeded)
        {
            var problems = string.Join("; ", verification.Problems.Take(3).Select(p => $"{p.Path}: {p.Kind} {p.Detail}"));
            return await Fail(SyncOutcome.VerificationFailed, $"verification failed ({verification.Problems.Count} problem(s): {problems})");
        }

        var phases = verification.Phases.Count == 0 ? string.Empty
            : " (" + string.Join(", ", verification.Phases.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Name} {p.Elapsed.TotalSeconds:0.00} s"))) + ")";
        output.Step($"verified {verification.FilesChecked:N0} files ({verification.FilesHashedAhead:N0} of them hashed while they arrived; {verification.FilesSkipped:N0} unchanged, not re-hashed) in {verification.Elapsed.TotalSeconds:0.0} s{phases}");
        var version = verification.Version;
        var verdict = RollbackGuard.Check(version, current, source.Promised);
        if (!verdict.Accepted)
        {
            return await Fail(SyncOutcome.Rollback, $"refused: {verdict.Reason}", version);
        }

        var unchanged = current is { } have && have.Generated == version.Generated && have.Commit == version.Commit;
        if (options.Protocol == Protocol.Git && !unchanged)
        {
            if (await new GitTransfer(options).CheckOutAsync(staging.Path, cancellationToken) is { } checkoutError)
            {
                return await Fail(SyncOutcome.Abandoned, checkoutError);
            }

            var worktree = await check.VerifyStagedAsync(staging.Path, null, "HEAD", checkWorkTree: true, cancellationToken);
            if (!worktree.Succeeded || worktree.Version.Commit != version.Commit)
            {
                return await Fail(SyncOutcome.VerificationFailed, $"checked-out tree does not match the verified commit ({worktree.Summary})");
            }
        }

        if (!unchanged)
        {
            var swap = Stopwatch.StartNew();
            staging.Commit(verification.Delta);
            output.Step(options.RemoveOldTreeInBackground
                ? $"installed atomically in {swap.Elapsed.TotalSeconds:0.0} s; the old tree is {(stagingOptions.KeepSpare ? "kept as the spare for the next sync" : "being removed in the background")}"
                : $"installed atomically; old tree {(stagingOptions.KeepSpare ? "kept as the spare" : "removed")} in {swap.Elapsed.TotalSeconds:0.0} s");
        }
        else
        {
            staging.KeepAsSpare();
        }

        var sent = await reporter.ReportAsync(source, SyncOutcome.Success, bytes, watch.Elapsed, version, null);
        return new Attempted(Record(source, SyncOutcome.Success, null, bytes, files, watch.Elapsed, version, sent), version, !unchanged);
    }

    private static SyncAttempt Record(SyncSource source, SyncOutcome outcome, string? detail, long bytes, long files, TimeSpan elapsed, TreeVersion? verified, bool reported) => new()
    {
        Uri = source.Uri,
        Official = source.IsOfficial,
        Place = string.IsNullOrEmpty(source.Place) ? null : source.Place,
        RoundTripMs = source.RoundTrip?.TotalMilliseconds,
        Outcome = OutcomeName(outcome),
        Detail = detail,
        BytesReceived = bytes,
        FilesTransferred = files,
        Seconds = Math.Round(elapsed.TotalSeconds, 3),
        VerifiedVersion = verified?.ToString(),
        Reported = reported,
    };

    public static string OutcomeName(SyncOutcome outcome) => outcome switch
    {
        SyncOutcome.Success => "success",
        SyncOutcome.Unreachable => "unreachable",
        SyncOutcome.Stale => "stale",
        SyncOutcome.VerificationFailed => "verification_failed",
        SyncOutcome.Rollback => "rollback",
        SyncOutcome.Refused => "refused",
        SyncOutcome.Timeout => "timeout",
        SyncOutcome.Abandoned => "abandoned",
        _ => outcome.ToString().ToLowerInvariant(),
    };

    private static string Describe(TreeVersion? version) => version is { } v ? "version " + v : "no tree";

    private SyncResult Finish(
        string status, int exitCode, string message, TreeVersion? previous = null, TreeVersion? version = null, SourcePlan? plan = null,
        IReadOnlyList<SyncAttempt>? attempts = null, SyncSource? source = null, IReadOnlyList<string>? hookFailures = null) => new()
    {
        Status = status,
        ExitCode = exitCode,
        Message = message,
        Repository = options.Repository,
        Protocol = options.Protocol == Protocol.Git ? "git" : "rsync",
        PreviousVersion = previous?.ToString(),
        Version = version?.ToString(),
        Source = source?.Uri,
        SourceOfficial = source?.IsOfficial,
        CoordinatorReachable = plan?.CoordinatorReachable ?? false,
        CoordinatorError = plan?.CoordinatorError,
        BytesReceived = attempts?.Sum(a => a.BytesReceived) ?? 0,
        Seconds = Math.Round(_clock.Elapsed.TotalSeconds, 3),
        Attempts = attempts ?? [],
        HookFailures = hookFailures ?? [],
    };

    internal static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
