using AdHocMirror.Clients;
namespace AdHocMirror.Daemon.Configuration;

/// <summary>Which protocols the mirror serves.</summary>
[Flags]
public enum ServedProtocols
{
    None = 0,
    Rsync = 1,
    Git = 2,
    Both = Rsync | Git,
}

/// <summary>Everything <c>ahm-daemon run</c> is told by <c>/etc/ahm/daemon.conf</c> and its flags (see <see cref="DaemonSettings"/>).</summary>
public sealed class DaemonOptions
{
    public const int DefaultPingPort = 7472;
    public const int DefaultRsyncPort = 8873;
    public const int DefaultGitPort = 9418;
    public const string RsyncModule = "gentoo-portage";
    public const string GitRepository = "gentoo.git";

    /// <summary>
    /// The coordinators' gRPC addresses (several on one database, or one name with several addresses), e.g.
    /// https://ahm.gentoo.org:7470: the session goes to the first that answers and moves on when it goes away.
    /// </summary>
    public ServiceAddresses Coordinators { get; set; } = ServiceAddresses.Parse("http://127.0.0.1:7470");

    /// <summary>The first coordinator; setting it makes it the only one.</summary>
    public Uri Coordinator
    {
        get => Coordinators.Targets[0];
        set => Coordinators = ServiceAddresses.Parse(value?.ToString());
    }

    /// <summary>PEM certificates trusted for the coordinator's TLS (besides the system's).</summary>
    public string? CoordinatorTrust { get; set; }

    /// <summary>Host name or address advertised to clients and to the coordinator's pinger.</summary>
    public string PublicHost { get; set; } = "127.0.0.1";

    /// <summary>Address the ping listener, rsync and git bind to.</summary>
    public string ListenAddress { get; set; } = "0.0.0.0";

    public int PingPort { get; set; } = DefaultPingPort;

    public int RsyncPort { get; set; } = DefaultRsyncPort;

    public int GitPort { get; set; } = DefaultGitPort;

    /// <summary>Ports advertised when they differ from the bound ones (NAT port forwarding); 0 = the bound port.</summary>
    public int PublicPingPort { get; set; }

    public int PublicRsyncPort { get; set; }

    public int PublicGitPort { get; set; }

    public ServedProtocols Protocols { get; set; } = ServedProtocols.Both;

    /// <summary>Key file, status file, rsyncd.conf, lock files. Kept private (0700).</summary>
    public string StateDir { get; set; } = "/var/lib/ahm-daemon";

    /// <summary>The rsync snapshots and the served git repository.</summary>
    public string TreeDir { get; set; } = "/var/cache/ahm-daemon";

    public int MaxClients { get; set; } = 16;

    /// <summary>Which clients the coordinator may send here (serve_to): anywhere, this continent, this country, or within a radius.</summary>
    public AdHocMirror.Contracts.V1.ServeTo ServeTo { get; set; } = new() { Reach = AdHocMirror.Contracts.V1.ServeTo.Types.Reach.Anywhere };

    /// <summary>Outgoing bandwidth cap per rsync transfer in KiB/s; 0 = unlimited.</summary>
    public int BandwidthKibps { get; set; }

    /// <summary>Where rsync trees come from (rsync://…), null when fetched through the coordinator or not served.</summary>
    public Upstream? RsyncUpstream { get; set; }

    /// <summary>Where the git tree comes from, null when fetched through the coordinator or not served.</summary>
    public Upstream? GitUpstream { get; set; }

    public TimeSpan SyncInterval { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>Longest one upstream sync (transfer and verification) may take.</summary>
    public TimeSpan SyncTimeout { get; set; } = TimeSpan.FromMinutes(20);

    public string Keyring { get; set; } = "/usr/share/openpgp-keys/gentoo-release.asc";

    /// <summary>User to switch to when started as root.</summary>
    public string User { get; set; } = "ahm";

    /// <summary>The key is rotated once this fraction of its lifetime has passed.</summary>
    public double RotateAt { get; set; } = 2.0 / 3.0;

    /// <summary>The key is dropped when older than this by the daemon's own clock (the coordinator's lifetime).</summary>
    public TimeSpan KeyLifetime { get; set; } = TimeSpan.FromDays(30);

    /// <summary>Longest wait between reconnection attempts to the coordinator.</summary>
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>First wait before retrying the coordinator (doubles, with jitter, up to <see cref="MaxBackoff"/>).</summary>
    public TimeSpan MinBackoff { get; set; } = TimeSpan.FromSeconds(1);

    public string RsyncProgram { get; set; } = "rsync";

    public string GitProgram { get; set; } = "git";

    /// <summary>Tests run the in-process host as root (the command line drops privileges before it gets here).</summary>
    internal bool AllowRoot { get; set; }

    public bool ServesRsync => Protocols.HasFlag(ServedProtocols.Rsync);

    public bool ServesGit => Protocols.HasFlag(ServedProtocols.Git);

    public string KeyFile => Path.Combine(StateDir, "key");

    public string StatusFile => Path.Combine(StateDir, "status.json");

    public string RsyncUri => $"rsync://{HostForUri}:{(PublicRsyncPort > 0 ? PublicRsyncPort : RsyncPort)}/{RsyncModule}";

    public string GitUri => $"git://{HostForUri}:{(PublicGitPort > 0 ? PublicGitPort : GitPort)}/{GitRepository}";

    public string PingAddress => $"{HostForUri}:{(PublicPingPort > 0 ? PublicPingPort : PingPort)}";

    private string HostForUri => PublicHost.Contains(':', StringComparison.Ordinal) && !PublicHost.StartsWith('[') ? $"[{PublicHost}]" : PublicHost;
}
