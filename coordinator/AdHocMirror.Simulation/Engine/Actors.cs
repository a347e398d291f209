using AdHocMirror.Coordinator.Geo;

namespace AdHocMirror.Simulation.Engine;

public enum Fault
{
    None,

    /// <summary>Its machine dies at the end of each online window: no logout, pings go unanswered.</summary>
    Dead,

    /// <summary>Advertises each new version but serves the tree it first had.</summary>
    Stale,

    /// <summary>Serves tampered files: verification fails.</summary>
    Malicious,
}

/// <summary>One volunteer's machine: where, how big, when it is on, what it serves, and the truth about its load.</summary>
internal sealed class Volunteer(int id, GeoPlace place, int maxClients, double uplinkMbps, Fault fault, bool swarmUpstream, double windowStartSecond)
{
    public int Id { get; } = id;

    public GeoPlace Place { get; } = place;

    public int MaxClients { get; } = maxClients;

    public double UplinkMbps { get; } = uplinkMbps;

    public Fault Fault { get; } = fault;

    public bool SwarmUpstream { get; } = swarmUpstream;

    /// <summary>When its machine comes on each day, in seconds after midnight UTC.</summary>
    public double WindowStartSecond { get; } = windowStartSecond;

    public string? KeyId { get; set; }

    public string? SessionId { get; set; }

    public int Logins { get; set; }

    /// <summary>Its daemon runs: logged in, serving, syncing.</summary>
    public bool Up { get; set; }

    /// <summary>Died without logging out: the coordinator still has its session until pings fail.</summary>
    public bool Zombie { get; set; }

    public bool Retired { get; set; }

    public bool Syncing { get; set; }

    public int WindowDay { get; set; } = -1;

    /// <summary>Version of the tree it really serves (0: none yet).</summary>
    public long ServedTicks { get; set; }

    /// <summary>Version it tells the coordinator it serves.</summary>
    public long AdvertisedTicks { get; set; }

    /// <summary>Clients transferring from it right now (what its rsync daemon sees).</summary>
    public int Connections { get; private set; }

    public int PeakConnections { get; private set; }

    public double ConnectionSeconds { get; private set; }

    public double UpSeconds { get; private set; }

    public int Served { get; set; }

    /// <summary>Connections its last answered ping reported.</summary>
    public int ReportedConnections { get; set; }

    private long _connectionsSince;
    private long _upSince;

    public void Connect(long now)
    {
        Account(now);
        Connections++;
        PeakConnections = Math.Max(PeakConnections, Connections);
    }

    public void Disconnect(long now)
    {
        Account(now);
        Connections--;
    }

    public void SetUp(bool up, long now)
    {
        Account(now);
        Up = up;
    }

    /// <summary>Brings the integrals up to <paramref name="now"/>.</summary>
    public void Account(long now)
    {
        ConnectionSeconds += Connections * (now - _connectionsSince) / (double)TimeSpan.TicksPerSecond;
        _connectionsSince = now;
        if (Up && !Zombie)
        {
            UpSeconds += (now - _upSince) / (double)TimeSpan.TicksPerSecond;
        }

        _upSince = now;
    }

    /// <summary>Starts counting afresh (end of the warm-up).</summary>
    public void ResetStats(long now)
    {
        Account(now);
        ConnectionSeconds = 0;
        UpSeconds = 0;
        PeakConnections = Connections;
        Served = 0;
    }
}

/// <summary>One official mirror: its place and its connections.</summary>
internal sealed class Official(string uri, GeoPlace? place)
{
    public string Uri { get; } = uri;

    public GeoPlace? Place { get; } = place;

    public int Connections { get; set; }

    public int PeakConnections { get; set; }
}

/// <summary>A source a sync may try: a leased volunteer or an official mirror.</summary>
internal readonly record struct Source(bool IsOfficial, int Index, string? LeaseId, long PromisedTicks, double DistanceKm);

/// <summary>One run of ahm-sync (or of a daemon's upstream sync): its sources, in the order it tries them.</summary>
internal sealed class SyncJob
{
    public List<Source> Sources { get; } = new(64);

    /// <summary>A client's index, or -1 for a volunteer's own sync.</summary>
    public int Client { get; set; }

    public Volunteer? Volunteer { get; set; }

    public GeoPlace Place { get; set; }

    public long HaveTicks { get; set; }

    public int Next { get; set; }

    public bool TriedVolunteer { get; set; }

    public bool Counted { get; set; }

    /// <summary>The attempt in progress and how it will end.</summary>
    public Source Current { get; set; }

    public Contracts.V1.SyncOutcome Outcome { get; set; }

    public long ReceivedTicks { get; set; }

    public bool Connected { get; set; }

    public void Reset()
    {
        Sources.Clear();
        Volunteer = null;
        Next = 0;
        TriedVolunteer = false;
        Connected = false;
    }
}
