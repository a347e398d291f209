using System.Diagnostics;
using AdHocMirror.Contracts;
using AdHocMirror.Contracts.V1;
using AdHocMirror.Coordinator.Geo;
using AdHocMirror.Coordinator.Observability;
using AdHocMirror.Wire;

namespace AdHocMirror.Coordinator.Matching;

/// <summary>
/// ahm.v1.Matching: sends a syncing client to newer, nearby, not-overloaded mirrors, each under a
/// lease, always with the official fallback; and takes its report of how the sync went.
/// </summary>
public sealed class MatchingService
{
    private readonly MirrorMatcher _matcher;
    private readonly LeaseBook _leases;
    private readonly SyncReports _reports;
    private readonly Locator _locator;
    private readonly ClientTags _tags;
    private readonly CoordinatorMetrics.Counter _calls;
    private readonly CoordinatorMetrics.Histogram _latency;
    private readonly CoordinatorMetrics.Counter _outcomes;
    private readonly CoordinatorMetrics.Counter _bytes;

    public MatchingService(
        MirrorIndex index, LeaseBook leases, SyncReports reports, Locator locator, MatchingOptions options,
        ClientTags tags, CoordinatorMetrics metrics)
    {
        _matcher = new MirrorMatcher(index, leases, options);
        _leases = leases;
        _reports = reports;
        _locator = locator;
        _tags = tags;
        _calls = metrics.AddCounter("ahm_findmirror_calls_total", "FindMirror answers by result", "result");
        _latency = metrics.AddHistogram("ahm_findmirror_seconds", "FindMirror time spent in the coordinator", [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05]);
        _outcomes = metrics.AddCounter("ahm_sync_reports_total", "ReportSync outcomes", "outcome");
        _bytes = metrics.AddCounter("ahm_sync_bytes_total", "Bytes clients reported syncing from mirrors");
        metrics.AddGauge("ahm_leases_held", "Leases whose place on a mirror is still taken", () => [new(string.Empty, leases.Held)]);
        metrics.AddGauge("ahm_matching_mirrors", "Mirrors in the matching index by protocol", () =>
        [
            new("rsync", index.Count(Protocol.Rsync)),
            new("git", index.Count(Protocol.Git)),
        ], "protocol");
    }

    public ServiceBinding Bind() => new ServiceBinding(MatchingMethods.Service)
        .Unary(MatchingMethods.FindMirror, FindMirrorAsync)
        .Unary(MatchingMethods.ReportSync, ReportSyncAsync);

    public Task<FindMirrorReply> FindMirrorAsync(FindMirrorRequest request, CallContext context)
    {
        var started = Stopwatch.GetTimestamp();
        if (request.Protocol is not (Protocol.Rsync or Protocol.Git))
        {
            throw new RpcException(StatusCode.InvalidArgument, "protocol must be PROTOCOL_RSYNC or PROTOCOL_GIT");
        }

        if (request.Hint?.Point is { } hintPoint && !GeoPlace.IsValid(hintPoint.Latitude, hintPoint.Longitude))
        {
            throw new RpcException(StatusCode.InvalidArgument, "hint.point must be latitude -90..90 and longitude -180..180");
        }

        var (client, source) = _locator.LocateClient(context.Peer, request.Hint);
        var reply = _matcher.Find(request, client);
        reply.LocationSource = source;
        if (client is { } place)
        {
            // Coarse on purpose: the answer says roughly where we think the client is, no more.
            reply.ClientLocation = new GeoPoint { Latitude = Math.Round(place.Latitude, 1), Longitude = Math.Round(place.Longitude, 1) };
        }

        var result = MirrorMatcher.ResultOf(reply);
        _calls.Inc(result);
        _latency.Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
        return Task.FromResult(reply);
    }

    public async Task<ReportSyncReply> ReportSyncAsync(ReportSyncRequest request, CallContext context)
    {
        if (string.IsNullOrEmpty(request.LeaseId))
        {
            throw new RpcException(StatusCode.InvalidArgument, "lease_id is required");
        }

        if (request.Outcome == SyncOutcome.Unspecified || !System.Enum.IsDefined(request.Outcome))
        {
            throw new RpcException(StatusCode.InvalidArgument, "outcome is required");
        }

        var lease = _leases.Complete(request.LeaseId)
            ?? throw new RpcException(StatusCode.NotFound, "unknown or long-expired lease");
        _outcomes.Inc(request.Outcome.ToString());
        if (request.Outcome == SyncOutcome.Success)
        {
            _bytes.Inc(by: request.Bytes);
        }

        // The reporter is who vouches for the outcome: distinct reporters are what quarantine counts.
        await _reports.RecordAsync(lease, _tags.Of(context.Peer), request.Outcome, request.Verified, context.CancellationToken);
        return new ReportSyncReply();
    }
}
