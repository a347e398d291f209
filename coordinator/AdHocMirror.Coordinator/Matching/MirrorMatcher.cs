using System.Diagnostics;
using System.Net;
using AdHocMirror.Contracts.V1;
using AdHocMirror.Coordinator.Geo;
using AdHocMirror.Coordinator.Matching.Privacy;
using AdHocMirror.Coordinator.Observability;
using Grpc.Core;
using Google.Protobuf.WellKnownTypes;

namespace AdHocMirror.Coordinator.Matching;

/// <summary>
/// Sends a syncing client to newer, nearby, not-overloaded mirrors, each under a lease, always with the official
/// fallback; and takes its report of how the sync went. Requests arrive here already checked (<see cref="MatchingService"/>).
/// </summary>
public sealed class MirrorMatcher
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
    private OfficialTable? _officials;

    public MirrorMatcher(
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

    /// <param name="peer">The caller's address: used to place it, then dropped.</param>
    public FindMirrorReply Find(FindMirrorRequest request, IPAddress? peer)
    {
        var started = Stopwatch.GetTimestamp();
        var network = _privacy.Admit(peer, out var record);
        var wanted = request.Count == 0 ? _options.DefaultCount : (int)Math.Min(request.Count, (uint)_options.MaxCount);
        var clientTicks = request.Current?.Generated is { } generated ? generated.ToDateTimeOffset().UtcTicks : long.MinValue;
        var (client, source) = _locator.LocateClient(peer, request.Hint);

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
                Offer(reply, request.Protocol, client, network, record, clientTicks, wanted, reach);
            }

            result = reply.Candidates.Count > 0 ? "candidates" : "no_mirror";
        }

        _calls.Inc(result);
        _latency.Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
        return reply;
    }

    /// <param name="reporter">The reporting client's address: distinct reporters are what quarantine counts.</param>
    public async Task<ReportSyncReply> ReportAsync(ReportSyncRequest request, IPAddress? reporter, CancellationToken cancellationToken)
    {
        var lease = _leases.Complete(request.LeaseId)
            ?? throw new RpcException(new Status(StatusCode.NotFound, "unknown or long-expired lease"));
        _outcomes.Inc(request.Outcome.ToString());
        if (request.Outcome == SyncOutcome.Success)
        {
            _bytes.Inc(by: request.Bytes);
        }

        // The reporter is who vouches for the outcome: distinct reporters are what quarantine counts.
        _privacy.Reported(reporter, lease.KeyId, request.Outcome);
        await _reports.RecordAsync(lease, _tags.Of(reporter), request.Outcome, request.Verified, cancellationToken);
        return new ReportSyncReply();
    }

    private void Offer(FindMirrorReply reply, Protocol protocol, GeoPlace? client, ClientNetwork? network, int record, long clientTicks, int wanted, double reachKm)
    {
        var picked = _picker.Pick(protocol, client, network, record, clientTicks, wanted, reachKm, out var spent);
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
    /// <remarks>On every answer: positions are unit vectors computed once per list, and the order is a stable sort of indexes.</remarks>
    private double? AddOfficial(FindMirrorReply reply, Protocol protocol, GeoPlace? client)
    {
        var entries = OfficialTable.For(_options.Official, ref _officials).Entries;
        Span<(double Key, int Index)> order = entries.Length <= 128 ? stackalloc (double, int)[entries.Length] : new (double, int)[entries.Length];
        var listed = 0;
        double? nearest = null;
        var (cx, cy, cz) = client is { } place ? GreatCircle.UnitVector(place.Latitude, place.Longitude) : default;
        for (var i = 0; i < entries.Length; i++)
        {
            ref readonly var official = ref entries[i];
            if (official.Protocol != protocol)
            {
                continue;
            }

            var km = 0.0;
            if (client is not null && official.Located)
            {
                var (dx, dy, dz) = (official.X - cx, official.Y - cy, official.Z - cz);
                km = Math.Round(GreatCircle.ChordToKm((dx * dx) + (dy * dy) + (dz * dz)), 1);
                nearest = Math.Min(nearest ?? double.MaxValue, km);
            }

            order[listed++] = (km, i);
        }

        // Located ones nearest first; those without a location after them, in configured order.
        var keys = order[..listed];
        for (var i = 0; i < keys.Length; i++)
        {
            keys[i].Key = keys[i].Key == 0 && nearest is not null ? double.MaxValue : keys[i].Key;
        }

        keys.Sort();
        foreach (var (key, i) in keys)
        {
            reply.Official.Add(new OfficialMirror { Uri = entries[i].Uri, Name = entries[i].Name, DistanceKm = key == double.MaxValue ? 0 : key });
        }

        return nearest;
    }

    /// <summary>The configured official mirrors with their unit vectors; rebuilt when the list is replaced or changes size.</summary>
    private sealed class OfficialTable(List<OfficialMirrorOptions> source, OfficialTable.Entry[] entries)
    {
        private readonly int _count = source.Count;

        public Entry[] Entries { get; } = entries;

        public static OfficialTable For(List<OfficialMirrorOptions> official, ref OfficialTable? cached)
        {
            if (cached is { } table && ReferenceEquals(table.Source, official) && table._count == official.Count)
            {
                return table;
            }

            var entries = new Entry[official.Count];
            for (var i = 0; i < entries.Length; i++)
            {
                var o = official[i];
                var located = o.Latitude is not null && o.Longitude is not null;
                var (x, y, z) = located ? GreatCircle.UnitVector(o.Latitude!.Value, o.Longitude!.Value) : default;
                entries[i] = new Entry(o.Name, o.Uri, o.Protocol, located, x, y, z);
            }

            return cached = new OfficialTable(official, entries);
        }

        private List<OfficialMirrorOptions> Source { get; } = source;

        public readonly record struct Entry(string Name, string Uri, Protocol Protocol, bool Located, double X, double Y, double Z);
    }
}
