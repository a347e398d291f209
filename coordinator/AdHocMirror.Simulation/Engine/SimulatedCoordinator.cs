using System.Net;
using AdHocMirror.Contracts.V1;
using AdHocMirror.Coordinator.Admin;
using AdHocMirror.Coordinator.Geo;
using AdHocMirror.Coordinator.Hosting;
using AdHocMirror.Coordinator.Keys;
using AdHocMirror.Coordinator.Matching;
using AdHocMirror.Coordinator.Matching.Privacy;
using AdHocMirror.Coordinator.Mirrors;
using AdHocMirror.Coordinator.Observability;
using AdHocMirror.Coordinator.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace AdHocMirror.Simulation.Engine;

/// <summary>
/// The coordinator's own domain classes, wired as <c>ahm-coordinator serve</c> wires them, minus the transport: the
/// key registry (on an in-memory SQLite store), the mirror directory, the matching index following it, the lease
/// book, sync reports and quarantine, and <see cref="MirrorMatcher"/>. The simulation calls them where the gRPC
/// services and the ping scheduler would.
/// </summary>
public sealed class SimulatedCoordinator : IDisposable
{
    private readonly SqliteCoordinatorStore _store;
    private readonly int _pingFailures;
    private readonly TimeProvider _clock;

    private SimulatedCoordinator(CoordinatorOptions options, TimeProvider clock, SqliteCoordinatorStore store)
    {
        _store = store;
        _clock = clock;
        _pingFailures = options.Pings.FailuresToOffline;
        Directory = new MirrorDirectory();
        var audit = new AuditTrail();
        Quarantine = new MirrorQuarantine(store, Directory, audit, clock);
        var metrics = new CoordinatorMetrics(clock);
        Keys = new KeyRegistry(
            store, Directory, Quarantine, audit, options.Keys, new RegistrationLimiter(options.Keys, clock), new Refusals(metrics), metrics, clock, NullLogger<KeyRegistry>.Instance);
        Index = new MirrorIndex(Directory);
        Leases = new LeaseBook(options.Matching, clock);
        Reports = new SyncReports(options.Matching, Quarantine, clock, NullLogger<SyncReports>.Instance);

        // No GeoIP database: a client is placed by its location hint, as `ahm-sync --near LAT,LON` places one.
        var locator = new Locator(new LocationOverrides(options.Geo.Overrides), null, options.Geo.HintMaxKm);
        // The reveal budget and the rate limit work per client network, and the simulated clients' made-up addresses have
        // no realistic spread over networks (many share a /24): both are off here, so the figures are matching's own.
        options.Privacy.RevealBudget = 0;
        options.Privacy.FindMirrorPerMinute = 0;
        var budget = new RevealBudget(options.Privacy);
        var privacy = new MatchingPrivacy(
            new ClientNetworks(new RevealWindows(options.Privacy, clock, NullLogger<RevealWindows>.Instance)),
            new FindMirrorRateLimit(options.Privacy, clock),
            budget,
            options.Privacy,
            metrics);
        Matcher = new MirrorMatcher(Index, Leases, Reports, locator, options.Matching, new ClientTags(), metrics, new CandidatePicker(Index, Leases, options.Matching, budget), privacy);
    }

    public MirrorDirectory Directory { get; }

    public MirrorQuarantine Quarantine { get; }

    public KeyRegistry Keys { get; }

    public MirrorIndex Index { get; }

    public LeaseBook Leases { get; }

    public SyncReports Reports { get; }

    public MirrorMatcher Matcher { get; }

    public static async Task<SimulatedCoordinator> StartAsync(CoordinatorOptions options, TimeProvider clock)
    {
        var store = new SqliteCoordinatorStore(":memory:");
        await store.OpenAsync();
        var coordinator = new SimulatedCoordinator(options, clock, store);
        await coordinator.Keys.LoadAsync(CancellationToken.None);
        await coordinator.Quarantine.LoadAsync(CancellationToken.None);
        return coordinator;
    }

    /// <summary>Register: a new key, as a first daemon start gets it.</summary>
    public string Register(IPAddress peer) =>
        Keys.RegisterAsync(peer, CancellationToken.None).GetAwaiter().GetResult().KeyId;

    /// <summary>Login and the first ping, which the coordinator sends a new session at once.</summary>
    public string Login(string keyId, int serial, GeoPlace place, uint maxClients, TreeVersion? version, IPAddress peer)
    {
        var sessionId = $"s{serial}";
        var endpoints = new MirrorEndpoints { RsyncUri = UriOf(keyId), PingAddress = $"[{peer}]:7472" };
        var location = new MirrorLocation(place.ToContract(), place.Place);
        Directory.Open(new OpenSession(
            keyId, sessionId, [], endpoints, version is null ? [] : [version], new LoadLimits { MaxClients = maxClients }, peer, location,
            _clock.GetUtcNow(), Quarantine.IsQuarantined(keyId)));
        Ping(keyId, sessionId, 0, answered: true);
        return sessionId;
    }

    /// <summary>A ping: answered with the connections being served, or unanswered (a dead machine).</summary>
    public void Ping(string keyId, string sessionId, int activeConnections, bool answered) =>
        Directory.RecordPing(
            keyId,
            sessionId,
            new PingOutcome(_clock.GetUtcNow(), 20, answered ? new PingReply { ActiveConnections = (uint)activeConnections } : null),
            _pingFailures);

    public void Logout(string keyId, string sessionId) => Directory.Remove(keyId, sessionId);

    public void ReportVersion(string keyId, string sessionId, TreeVersion version) => Directory.ReportVersions(keyId, sessionId, [version]);

    /// <summary>FindMirror for a client at <paramref name="client"/>: the request carries it as its location hint.</summary>
    public FindMirrorReply Find(FindMirrorRequest request, GeoPlace client)
    {
        request.Hint = new LocationHint { Point = client.ToContract() };
        return Matcher.Find(request, peer: null);
    }

    /// <summary>ReportSync from <paramref name="reporter"/> (distinct reporters are what quarantine counts); false for an unknown lease.</summary>
    public bool Report(string leaseId, IPAddress reporter, SyncOutcome outcome, TreeVersion? verified)
    {
        try
        {
            var request = new ReportSyncRequest { LeaseId = leaseId, Outcome = outcome, Verified = verified };
            Matcher.ReportAsync(request, reporter, CancellationToken.None).GetAwaiter().GetResult();
            return true;
        }
        catch (Grpc.Core.RpcException e) when (e.StatusCode == Grpc.Core.StatusCode.NotFound)
        {
            return false;
        }
    }

    public static string UriOf(string keyId) => $"rsync://{keyId}.volunteer.invalid:8873/gentoo-portage";

    public void Dispose()
    {
        Leases.Dispose();
        Index.Dispose();
        _store.Dispose();
    }
}
