using System.Diagnostics;
using AdHocMirror.Contracts;
using AdHocMirror.Contracts.V1;
using AdHocMirror.Coordinator.Geo;
using AdHocMirror.Coordinator.Matching.Privacy;
using AdHocMirror.Coordinator.Observability;
using AdHocMirror.Wire;
using Google.Protobuf.WellKnownTypes;

namespace AdHocMirror.Coordinator.Matching;

/// <summary>
/// ahm.v1.Matching: sends a syncing client to newer, nearby, not-overloaded mirrors, each under a
/// lease, always with the official fallback; and takes its report of how the sync went.
/// </summary>
public sealed class MatchingService
{
    private readonly MirrorIndex _index;
    private readonly LeaseBook _leases;
    private readonly SyncReports _reports;
    private readonly Locator _locator;
    private readonly MatchingOptions _options;
    private readonly ClientTags _tags;
    private readonly CandidatePicker _picker;
    private readonly MatchingPrivacy _privacy;
    private readonly CoordinatorMetrics.Counter _calls;
    private readonly CoordinatorMetrics.Histogram _latency;
    private readonly CoordinatorMetrics.Counter _outcomes;
    private readonly CoordinatorMetrics.Counter _bytes;

    public MatchingService(
        MirrorIndex index, LeaseBook leases, SyncReports reports, Locator locator, MatchingOptions options,
        ClientTags tags, CoordinatorMetrics metrics, CandidatePicker picker, MatchingPrivacy privacy)
    {
        _picker = picker;
        _privacy = privacy;
        _index = index;
        _leases = leases;
        _reports = reports;
        _locator = locator;
        _options = options;
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
        var network = _privacy.Admit(context.Peer);
        if (request.Protocol is not (Protocol.Rsync or Protocol.Git))
        {
            throw new RpcException(StatusCode.InvalidArgument, "protocol must be PROTOCOL_RSYNC or PROTOCOL_GIT");
        }

        if (request.Hint?.Point is { } hintPoint && !GeoPlace.IsValid(hintPoint.Latitude, hintPoint.Longitude))
        {
            throw new RpcException(StatusCode.InvalidArgument, "hint.point must be latitude -90..90 and longitude -180..180");
        }

        var wanted = request.Count == 0 ? _options.DefaultCount : (int)Math.Min(request.Count, (uint)_options.MaxCount);
        var clientTicks = request.Current?.Generated is { } generated ? generated.ToDateTimeOffset().UtcTicks : long.MinValue;
        var (client, source) = _locator.LocateClient(context.Peer, request.Hint);

        var reply = new FindMirrorReply { LocationSource = source };
        if (source.EndsWith(Locator.HintIgnored, StringComparison.Ordinal))
        {
            _privacy.Count("hint_ignored");
        }

        if (client is { } place)
        {
            // Coarse on purpose: the answer says roughly where we think the client is, no more.
            reply.ClientLocation = new GeoPoint { Latitude = Math.Round(place.Latitude, 1), Longitude = Math.Round(place.Longitude, 1) };
        }

        var nearestOfficialKm = AddOfficial(reply, request.Protocol, client);
        var newest = _index.Newest(request.Protocol);
        if (newest is not null)
        {
            reply.Newest = newest;
        }

        string result;
        if (newest is null)
        {
            result = "no_mirror";
        }
        else if (clientTicks >= newest.Generated.ToDateTimeOffset().UtcTicks)
        {
            reply.UpToDate = true;
            result = "up_to_date";
        }
        else
        {
            var reach = nearestOfficialKm is { } official && official <= _options.OfficialFarKm
                ? official - _options.OfficialMarginKm
                : double.PositiveInfinity;
            if (reach > 0)
            {
                Offer(reply, request.Protocol, client, network, clientTicks, wanted, reach);
            }

            result = reply.Candidates.Count > 0 ? "candidates" : "no_mirror";
        }

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
        _privacy.Reported(context.Peer, lease.KeyId, request.Outcome);
        await _reports.RecordAsync(lease, _tags.Of(context.Peer), request.Outcome, request.Verified, context.CancellationToken);
        return new ReportSyncReply();
    }

    private void Offer(FindMirrorReply reply, Protocol protocol, GeoPlace? client, ClientNetwork? network, long clientTicks, int wanted, double reachKm)
    {
        var picked = _picker.Pick(protocol, client, network, clientTicks, wanted, reachKm, out var spent);
        foreach (var (slot, lease, distance) in picked)
        {
            reply.Candidates.Add(new Candidate
            {
                Uri = slot.Uri,
                Version = lease.Promised,
                LeaseId = Lease.Format(lease.Id),
                LeaseExpiresAt = Timestamp.FromDateTimeOffset(lease.ExpiresAt),
                DistanceKm = double.IsNaN(distance) ? 0 : Math.Round(distance, 1),
                MirrorId = slot.KeyId,
                Place = slot.Place,
            });
        }

        if (spent)
        {
            _privacy.Count("budget_spent");
        }
    }

    /// <summary>Lists the official mirrors of the protocol, nearest first; returns the nearest located one's distance.</summary>
    private double? AddOfficial(FindMirrorReply reply, Protocol protocol, GeoPlace? client)
    {
        double? nearest = null;
        var listed = new List<OfficialMirror>();
        foreach (var official in _options.Official)
        {
            if (official.Protocol != protocol)
            {
                continue;
            }

            var entry = new OfficialMirror { Uri = official.Uri, Name = official.Name };
            if (client is { } place && official.Latitude is { } lat && official.Longitude is { } lon)
            {
                entry.DistanceKm = Math.Round(GreatCircle.DistanceKm(place.Latitude, place.Longitude, lat, lon), 1);
                nearest = Math.Min(nearest ?? double.MaxValue, entry.DistanceKm);
            }

            listed.Add(entry);
        }

        // Located ones nearest first; those without a location after them, in configured order.
        reply.Official.AddRange(listed.OrderBy(o => o.DistanceKm == 0 && nearest is not null ? double.MaxValue : o.DistanceKm));
        return nearest;
    }
}
