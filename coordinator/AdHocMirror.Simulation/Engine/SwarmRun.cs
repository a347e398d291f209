using System.Net;
using AdHocMirror.Contracts.V1;
using AdHocMirror.Coordinator.Geo;
using AdHocMirror.Simulation.Results;
using AdHocMirror.Simulation.World;
using Google.Protobuf.WellKnownTypes;

namespace AdHocMirror.Simulation.Engine;

/// <summary>
/// One run: a discrete-event loop on a <see cref="VirtualClock"/> over clients, volunteers' daemons and official
/// mirrors, where every matching decision is the real coordinator's (<see cref="SimulatedCoordinator"/>).
/// Single-threaded and seeded, so a seed gives the same figures every time.
/// </summary>
internal sealed partial class SwarmRun
{
    public static readonly DateTimeOffset Epoch = new(2026, 12, 7, 0, 0, 0, TimeSpan.Zero);
    private const int PingSlots = 12;

    private readonly SimulationOptions _options;
    private readonly Population _population;
    private readonly VirtualClock _clock;
    private readonly SimulatedCoordinator _coordinator;
    private readonly RunStats _stats = new();
    private readonly PriorityQueue<Event, (long At, long Sequence)> _queue = new();
    private readonly List<Volunteer> _volunteers = [];
    private readonly List<Volunteer>[] _pingBuckets = [.. Enumerable.Range(0, PingSlots).Select(_ => new List<Volunteer>())];
    private readonly Dictionary<string, Volunteer> _byKey = new(StringComparer.Ordinal);
    private readonly Official[] _officials;
    private readonly Dictionary<string, int> _officialByUri = new(StringComparer.Ordinal);

    // Answers carry the configured URI strings themselves: found by reference first, no string hashing per listed mirror.
    private readonly Dictionary<string, int> _officialByReference = new(ReferenceEqualityComparer.Instance);
    private readonly Random _random;
    private readonly Random _volunteerRandom;
    private readonly Stack<SyncJob> _pool = new();
    private readonly Dictionary<long, TreeVersion> _versions = [];
    private readonly long[] _clientHave;
    private readonly long _start;
    private readonly long _end;
    private readonly long _warmupEnd;
    private readonly long _pingSlotTicks;
    private long _sequence;

    private SwarmRun(SimulationOptions options, Population population, SimulatedCoordinator coordinator, VirtualClock clock)
    {
        _options = options;
        _population = population;
        _coordinator = coordinator;
        _clock = clock;
        _start = Epoch.UtcTicks;
        _end = _start + options.Duration.Ticks;
        _warmupEnd = _start + options.Warmup.Ticks;
        _pingSlotTicks = Math.Max(TimeSpan.TicksPerSecond, options.Coordinator.Pings.Interval.Ticks / PingSlots);
        _random = new Random(Streams.Of(options.Seed, 3));
        _volunteerRandom = new Random(Streams.Of(options.Seed, 2));
        var officials = options.Coordinator.Matching.Official.Where(o => o.Protocol == Protocol.Rsync).ToList();
        _officials = [.. officials.Select(o => new Official(o.Uri, o.Latitude is { } lat && o.Longitude is { } lon ? new GeoPlace(lat, lon, o.Name) : null))];
        for (var i = 0; i < _officials.Length; i++)
        {
            _officialByUri.TryAdd(_officials[i].Uri, i);
            _officialByReference.TryAdd(_officials[i].Uri, i);
        }

        _clientHave = new long[population.Places.Length];
    }

    private enum Kind
    {
        ClientSync,
        AttemptEnd,
        DayStart,
        VolunteerUp,
        VolunteerDown,
        VolunteerSync,
        PingRound,
        Sample,
        WarmupEnd,
    }

    /// <summary>Runs <paramref name="options"/> over <paramref name="population"/> to the end and returns what it counted.</summary>
    public static async Task<RunReport> RunAsync(SimulationOptions options, Population population)
    {
        var clock = new VirtualClock(Epoch);
        using var coordinator = await SimulatedCoordinator.StartAsync(options.Coordinator, clock);
        var run = new SwarmRun(options, population, coordinator, clock);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        run.Loop();
        return RunReport.From(options, run._stats, run._volunteers, run._officials, run.InitialVolunteers, run.QuarantinedFaulty(), coordinator.Quarantine.List().Count, System.Diagnostics.Stopwatch.GetElapsedTime(started));
    }

    private int InitialVolunteers { get; set; }

    private void Loop()
    {
        InitialVolunteers = (int)Math.Round(_options.Clients * _options.Volunteers);
        for (var i = 0; i < InitialVolunteers; i++)
        {
            AddVolunteer(newcomer: false);
        }

        for (var client = 0; client < _clientHave.Length; client++)
        {
            // As if synced yesterday at the same time.
            var first = Math.Max(_start, ClientSyncTime(client, 0));
            _clientHave[client] = UpstreamAt(first - TimeSpan.TicksPerDay);
            Schedule(first, Kind.ClientSync, client, 0);
        }

        Schedule(_start, Kind.DayStart, 0, 0);
        Schedule(_start, Kind.PingRound, 0, 0);
        Schedule(_start, Kind.Sample, 0, 0);
        Schedule(_warmupEnd, Kind.WarmupEnd, 0, 0);
        while (_queue.TryDequeue(out var next, out var at) && at.At < _end)
        {
            _clock.AdvanceTo(at.At);
            Handle(next, at.At);
        }

        _clock.AdvanceTo(_end);
        _stats.AccountOfficial(_end);
        foreach (var volunteer in _volunteers)
        {
            volunteer.Account(_end);
        }
    }

    private void Handle(Event e, long now)
    {
        switch (e.Kind)
        {
            case Kind.ClientSync: StartClientSync(e.Subject, e.Aux, now); break;
            case Kind.AttemptEnd: EndAttempt(e.Job!, now); break;
            case Kind.DayStart: StartDay(e.Subject, now); break;
            case Kind.VolunteerUp: VolunteerUp(_volunteers[e.Subject], e.Aux, now); break;
            case Kind.VolunteerDown: VolunteerDown(_volunteers[e.Subject], e.Aux, now); break;
            case Kind.VolunteerSync: StartVolunteerSync(_volunteers[e.Subject], e.Aux, now); break;
            case Kind.PingRound: PingRound(e.Subject, now); break;
            case Kind.Sample:
                _stats.Sample(now);
                Schedule(now + TimeSpan.TicksPerMinute, Kind.Sample, 0, 0);
                break;
            case Kind.WarmupEnd: StartCounting(now); break;
        }
    }

    private void StartCounting(long now)
    {
        _stats.Start(now);
        foreach (var volunteer in _volunteers)
        {
            volunteer.ResetStats(now);
        }

        foreach (var official in _officials)
        {
            official.PeakConnections = official.Connections;
        }
    }

    private long ClientSyncTime(int client, int day)
    {
        // The same time each day, give or take a quarter of an hour (a cron job, a habit).
        var jitter = (Streams.Uniform(_options.Seed, client, day) - 0.5) * 1800;
        return _start + (day * TimeSpan.TicksPerDay) + (long)((_population.SyncSecondOfDay[client] + jitter) * TimeSpan.TicksPerSecond);
    }

    private void StartClientSync(int client, int day, long now)
    {
        var next = ClientSyncTime(client, day + 1);
        if (next < _end)
        {
            Schedule(next, Kind.ClientSync, client, day + 1);
        }

        var job = Rent();
        job.Client = client;
        job.Place = _population.Places[client];
        job.HaveTicks = _clientHave[client];
        job.Counted = _stats.Counting;
        if (!AskCoordinator(job, now, _population.Probes[client]))
        {
            Finish(job, null, now);
            return;
        }

        TryNext(job, now);
    }

    private void Schedule(long at, Kind kind, int subject, int aux, SyncJob? job = null) =>
        _queue.Enqueue(new Event(kind, subject, aux, job), (at, _sequence++));

    private SyncJob Rent() => _pool.TryPop(out var job) ? job : new SyncJob();

    private long UpstreamAt(long ticks)
    {
        var interval = _options.UpstreamInterval.Ticks;
        return _start + ((long)Math.Floor((ticks - _start) / (double)interval) * interval);
    }

    private TreeVersion VersionOf(long ticks)
    {
        if (!_versions.TryGetValue(ticks, out var version))
        {
            version = new TreeVersion { Protocol = Protocol.Rsync, Generated = Timestamp.FromDateTimeOffset(new DateTimeOffset(ticks, TimeSpan.Zero)) };
            _versions[ticks] = version;
        }

        return version;
    }

    /// <summary>Where a client's reports come from: one address per client (documentation range), so the reports tell clients apart.</summary>
    private static IPAddress ReporterOf(SyncJob job) =>
        job.Volunteer is { } volunteer ? PeerOf(volunteer.Id) : IPAddress.Parse($"2001:db8:ffff:{job.Client >> 16:x}:{job.Client & 0xffff:x}::1");

    private static IPAddress PeerOf(int id) => IPAddress.Parse($"2001:db8:{id & 0xffff:x}:{id >> 16:x}::1");

    private int QuarantinedFaulty() => _coordinator.Quarantine.List().Count(q => _byKey.TryGetValue(q.KeyId, out var v) && v.Fault != Fault.None);

    private readonly record struct Event(Kind Kind, int Subject, int Aux, SyncJob? Job);
}
