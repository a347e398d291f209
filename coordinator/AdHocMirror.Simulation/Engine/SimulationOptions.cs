using AdHocMirror.Coordinator.Hosting;

namespace AdHocMirror.Simulation.Engine;

/// <summary>
/// Everything a run depends on besides the coordinator's own settings. Defaults are sized like Gentoo; each has a
/// flag (see <see cref="Cli.SimulationFlags"/>).
/// </summary>
public sealed class SimulationOptions
{
    /// <summary>The coordinator's settings, as a configuration file (and its flags) give them.</summary>
    public CoordinatorOptions Coordinator { get; set; } = new();

    public int Clients { get; set; } = 200_000;

    public TimeSpan Duration { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Not counted: volunteers log in, pings bring them online, trees settle.</summary>
    public TimeSpan Warmup { get; set; } = TimeSpan.FromDays(1);

    public int Seed { get; set; } = 1;

    /// <summary>Volunteers as a share of clients.</summary>
    public double Volunteers { get; set; } = 0.02;

    public int VolunteerMinClients { get; set; } = 2;

    public int VolunteerMaxClients { get; set; } = 16;

    /// <summary>Home uplinks, drawn log-uniformly between the two, in Mbit/s.</summary>
    public double VolunteerUplinkMinMbps { get; set; } = 10;

    public double VolunteerUplinkMaxMbps { get; set; } = 100;

    /// <summary>Share of the day a volunteer's machine is on, as one window around its local afternoon and evening.</summary>
    public double VolunteerOnline { get; set; } = 0.5;

    /// <summary>Chance that a volunteer's machine comes on at all on a given day.</summary>
    public double VolunteerPresence { get; set; } = 0.9;

    /// <summary>Share of volunteers that leave for good each day, replaced by as many newcomers (new keys, new places).</summary>
    public double VolunteerChurn { get; set; } = 0.02;

    /// <summary>Share of volunteers whose daemon has <c>upstream = coordinator</c> (the rest sync from the official mirrors).</summary>
    public double SwarmUpstream { get; set; } = 0.75;

    /// <summary>The daemon's <c>sync_interval</c>.</summary>
    public TimeSpan VolunteerSyncInterval { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>Share of volunteers whose machine dies (no logout) at the end of each online window.</summary>
    public double Dead { get; set; } = 0.01;

    /// <summary>Share of volunteers that advertise fresh versions but serve a frozen tree.</summary>
    public double Stale { get; set; } = 0.005;

    /// <summary>Share of volunteers that serve tampered files.</summary>
    public double Malicious { get; set; } = 0.005;

    /// <summary>Share of clients running <c>ahm-sync --probe</c>: the best round trip of the first candidates goes first.</summary>
    public double Probe { get; set; } = 0.3;

    public int ProbeCount { get; set; } = 3;

    /// <summary>Candidates clients ask for (0: the coordinator's default).</summary>
    public uint Candidates { get; set; }

    /// <summary>How strongly clients' sync times follow their local day (0: uniform over the day; 1: none at 3 am).</summary>
    public double ClientDiurnal { get; set; } = 0.5;

    public int OfficialMaxConnections { get; set; } = 30;

    public double OfficialUplinkMbps { get; set; } = 1000;

    public double ClientDownlinkMbps { get; set; } = 50;

    /// <summary>How often the upstream tree gets a new version.</summary>
    public TimeSpan UpstreamInterval { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>What a first sync of the whole tree transfers, in MB.</summary>
    public double TreeMb { get; set; } = 400;

    /// <summary>What a sync transfers per day of changes it is behind, in MB.</summary>
    public double ChangeMbPerDay { get; set; } = 30;

    /// <summary>rsync's file list of ~170,000 files, sent on every sync, in MB.</summary>
    public double FileListMb { get; set; } = 3;

    /// <summary>Fixed time of a sync besides the bytes: both sides walk the tree, the client verifies.</summary>
    public double SetupSeconds { get; set; } = 20;

    /// <summary>How long a client waits on a mirror that does not answer.</summary>
    public double ConnectTimeoutSeconds { get; set; } = 15;

    public SimulationOptions Clone()
    {
        var copy = (SimulationOptions)MemberwiseClone();
        copy.Coordinator = Coordinator; // read only during a run
        return copy;
    }

    /// <summary>The first inconsistency, named by its flag; null when the options can run.</summary>
    public string? Check()
    {
        if (Warmup >= Duration)
        {
            return $"--warmup ({Warmup}) must be shorter than --days ({Duration.TotalDays:0.##} d)";
        }

        if (VolunteerMinClients > VolunteerMaxClients)
        {
            return "--volunteer-max-clients: the lower bound is above the upper one";
        }

        if (VolunteerUplinkMinMbps > VolunteerUplinkMaxMbps)
        {
            return "--volunteer-uplink-mbps: the lower bound is above the upper one";
        }

        if (Dead + Stale + Malicious > 1)
        {
            return "--dead, --stale and --malicious add up to more than 100%";
        }

        return null;
    }
}
