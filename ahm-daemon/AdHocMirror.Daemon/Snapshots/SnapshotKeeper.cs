using AdHocMirror.Contracts.V1;
using AdHocMirror.Daemon.Configuration;
using AdHocMirror.Daemon.Session;
using AdHocMirror.Daemon.Status;
using Grpc.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TreeVersion = AdHocMirror.Tree.Versions.TreeVersion;

using MirrorState = AdHocMirror.Daemon.Status.MirrorState;

namespace AdHocMirror.Daemon.Snapshots;

/// <summary>
/// Keeps the snapshots fresh: at start and every <see cref="DaemonOptions.SyncInterval"/>, each served protocol syncs
/// from its upstream (or from newer mirrors the coordinator names) into a new snapshot that is published only once
/// verified. Whatever upstream does, the last good snapshot stays served.
/// </summary>
public sealed partial class SnapshotKeeper(
    DaemonOptions options,
    IEnumerable<ISnapshotSource> sources,
    CoordinatorConnection coordinator,
    MirrorState state,
    TimeProvider clock,
    ILogger<SnapshotKeeper> logger) : BackgroundService
{
    private readonly List<ISnapshotSource> _sources = [.. sources];
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Asks for a sync now instead of at the end of the interval.</summary>
    public void SyncNow() => _wake.TrySetResult();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        foreach (var source in _sources)
        {
            state.UpdateProtocol(source.Protocol, p => p with { Upstream = UpstreamOf(source)?.Location });
            var restored = await source.RestoreAsync(stoppingToken);
            if (restored is { } r)
            {
                Log.Restored(logger, source.Protocol.ToString(), r.Version.ToString());
                state.SetVersion(source.Protocol, r.Version, r.Snapshot);
                Serve(source);
            }
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            foreach (var source in _sources)
            {
                await SyncAsync(source, stoppingToken);
            }

            try
            {
                await Task.WhenAny(Task.Delay(options.SyncInterval, clock, stoppingToken), _wake.Task.WaitAsync(stoppingToken));
                stoppingToken.ThrowIfCancellationRequested();
            }
            catch (OperationCanceledException)
            {
                return;
            }

            _wake = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    private async Task SyncAsync(ISnapshotSource source, CancellationToken cancellationToken)
    {
        var upstream = UpstreamOf(source);
        if (upstream is null)
        {
            return;
        }

        var current = source.Protocol == Protocol.Git ? state.GitVersion : state.RsyncVersion;
        SyncResult? last = null;
        try
        {
            foreach (var candidate in await CandidatesAsync(upstream, source.Protocol, current, cancellationToken))
            {
                if (ReferenceEquals(candidate, UpToDate))
                {
                    last = new SyncResult(SyncResultKind.UpToDate, current, "the coordinator knows no newer tree", SyncOutcome.Success);
                    break;
                }

                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(options.SyncTimeout);
                var started = clock.GetTimestamp();
                Log.Syncing(logger, source.Protocol.ToString(), candidate.Uri);
                try
                {
                    last = await source.SyncAsync(candidate.Uri, candidate.Promised, timeout.Token);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    last = SyncResult.Failed(SyncOutcome.Timeout, $"sync from {candidate.Uri} took longer than {options.SyncTimeout}");
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // Whatever went wrong (disk full, a vanished directory, a bug), the served snapshot stays.
                    last = SyncResult.Failed(SyncOutcome.Abandoned, $"sync from {candidate.Uri} failed: {e.Message}");
                }

                if (candidate.LeaseId is not null)
                {
                    await ReportLeaseAsync(candidate, last, clock.GetElapsedTime(started), cancellationToken);
                }

                if (last.Kind != SyncResultKind.Failed)
                {
                    break;
                }

                Log.SyncFailed(logger, source.Protocol.ToString(), last.Detail);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return;
        }

        Record(source, last ?? SyncResult.Failed(SyncOutcome.Unreachable, "no upstream candidate (the coordinator named none)"));
    }

    private void Record(ISnapshotSource source, SyncResult result)
    {
        var now = clock.GetUtcNow();
        state.UpdateProtocol(source.Protocol, p => p with
        {
            LastSyncAt = now,
            LastSyncResult = result.Kind switch { SyncResultKind.Published => "published", SyncResultKind.UpToDate => "up to date", _ => "failed" },
            LastSyncError = result.Kind == SyncResultKind.Failed ? result.Detail : null,
            LastPublishedAt = result.Kind == SyncResultKind.Published ? now : p.LastPublishedAt,
            Syncs = p.Syncs + 1,
            Failures = p.Failures + (result.Kind == SyncResultKind.Failed ? 1 : 0),
        });
        if (result.Kind == SyncResultKind.Published)
        {
            Log.Published(logger, source.Protocol.ToString(), result.Version!.Value.ToString());
            state.SetVersion(source.Protocol, result.Version.Value, source.CurrentSnapshot ?? string.Empty);
            Serve(source);
        }
        else if (result.Kind == SyncResultKind.Failed)
        {
            Log.KeepServing(logger, source.Protocol.ToString(), result.Detail);
        }
    }

    private void Serve(ISnapshotSource source)
    {
        source.StartServing();
        state.UpdateProtocol(source.Protocol, p => p with { Serving = true });
    }

    private Upstream? UpstreamOf(ISnapshotSource source) => source.Protocol == Protocol.Git ? options.GitUpstream : options.RsyncUpstream;

    private sealed record Candidate(string Uri, TreeVersion? Promised, string? LeaseId);

    /// <summary>The coordinator says nobody has a newer tree than ours.</summary>
    private static readonly Candidate UpToDate = new(string.Empty, null, null);

    private async Task<IReadOnlyList<Candidate>> CandidatesAsync(Upstream upstream, Protocol protocol, TreeVersion? current, CancellationToken cancellationToken)
    {
        if (upstream.Kind != UpstreamKind.Coordinator)
        {
            return [new Candidate(upstream.Location, null, null)];
        }

        var request = new FindMirrorRequest { Protocol = protocol, Count = 3 };
        if (current is { } have)
        {
            request.Current = have.ToContract(protocol);
        }

        FindMirrorReply reply;
        try
        {
            reply = await coordinator.Matching.FindMirrorAsync(request, CoordinatorConnection.Call(null, cancellationToken: cancellationToken));
        }
        catch (Exception e) when (e is RpcException or HttpRequestException or IOException)
        {
            Log.NoCandidates(logger, protocol.ToString(), e.Message);
            return [];
        }

        if (reply.UpToDate)
        {
            return [UpToDate];
        }

        // Mirrors first (nearest first, as the coordinator orders them), then the official fallbacks.
        var candidates = reply.Candidates
            .Where(c => c.Uri != (protocol == Protocol.Git ? options.GitUri : options.RsyncUri))
            .Select(c => new Candidate(c.Uri, c.Version is null ? null : TreeVersion.FromContract(c.Version), c.LeaseId.Length > 0 ? c.LeaseId : null))
            .ToList();
        candidates.AddRange(reply.Official.Where(o => IsProtocol(o.Uri, protocol)).Select(o => new Candidate(o.Uri, null, null)));
        return candidates;
    }

    private static bool IsProtocol(string uri, Protocol protocol) =>
        Upstream.TryParse(uri, out var parsed, out _) && parsed.Kind == (protocol == Protocol.Git ? UpstreamKind.Git : UpstreamKind.Rsync);

    private async Task ReportLeaseAsync(Candidate candidate, SyncResult result, TimeSpan elapsed, CancellationToken cancellationToken)
    {
        var report = new ReportSyncRequest
        {
            LeaseId = candidate.LeaseId!,
            Outcome = result.Outcome,
            Bytes = (ulong)Math.Max(0, result.Bytes),
            DurationSeconds = elapsed.TotalSeconds,
            Detail = result.Kind == SyncResultKind.Failed ? result.Detail : string.Empty,
        };
        if (result.Version is { } version)
        {
            report.Verified = version.ToContract(result.Version.Value.Commit is null ? Protocol.Rsync : Protocol.Git);
        }

        try
        {
            await coordinator.Matching.ReportSyncAsync(report, CoordinatorConnection.Call(null, cancellationToken: cancellationToken));
        }
        catch (Exception e) when (e is RpcException or HttpRequestException or IOException)
        {
            Log.ReportFailed(logger, e.Message);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Serving the {Protocol} snapshot of an earlier run: {Version}")]
        public static partial void Restored(ILogger logger, string protocol, string version);

        [LoggerMessage(2, LogLevel.Information, "New {Protocol} snapshot published: {Version}")]
        public static partial void Published(ILogger logger, string protocol, string version);

        [LoggerMessage(3, LogLevel.Warning, "{Protocol} sync failed: {Detail}")]
        public static partial void SyncFailed(ILogger logger, string protocol, string detail);

        [LoggerMessage(4, LogLevel.Warning, "Keeping the last good {Protocol} snapshot: {Detail}")]
        public static partial void KeepServing(ILogger logger, string protocol, string detail);

        [LoggerMessage(5, LogLevel.Warning, "The coordinator named no {Protocol} upstream: {Detail}")]
        public static partial void NoCandidates(ILogger logger, string protocol, string detail);

        [LoggerMessage(7, LogLevel.Information, "Syncing {Protocol} from {Upstream}")]
        public static partial void Syncing(ILogger logger, string protocol, string upstream);

        [LoggerMessage(6, LogLevel.Debug, "Could not report a sync to the coordinator: {Detail}")]
        public static partial void ReportFailed(ILogger logger, string detail);
    }
}
