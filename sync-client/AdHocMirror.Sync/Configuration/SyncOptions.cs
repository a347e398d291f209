using AdHocMirror.Clients;
using AdHocMirror.Contracts.V1;

namespace AdHocMirror.Sync.Configuration;

/// <summary>Everything one run of ahm-sync needs, after defaults, repos.conf, the settings file and flags are merged.</summary>
public sealed class SyncOptions
{
    public const string DefaultRepository = "/var/db/repos/gentoo";
    public const string DefaultKeyring = "/usr/share/openpgp-keys/gentoo-release.asc";
    public const string DefaultReposConf = "/etc/portage/repos.conf";
    public const string DefaultPostSyncDirectory = "/etc/portage/repo.postsync.d";
    public const string DefaultOfficialRsync = "rsync://rsync.gentoo.org/gentoo-portage";
    public const string DefaultOfficialGit = "https://anongit.gentoo.org/git/repo/sync/gentoo.git";

    /// <summary>The repository directory to replace.</summary>
    public string Repository { get; set; } = DefaultRepository;

    /// <summary>The repository's name, passed to postsync hooks (repos.conf section, else profiles/repo_name).</summary>
    public string RepositoryName { get; set; } = "gentoo";

    /// <summary>
    /// The coordinators' gRPC addresses (several on one database, or one name with several addresses): the first that
    /// answers is asked, the next when it is down; null: sync from the official mirrors only.
    /// </summary>
    public ServiceAddresses? Coordinators { get; set; }

    /// <summary>The coordinators as written in messages (their URLs separated by spaces), or null.</summary>
    public string? Coordinator => Coordinators?.ToString();

    /// <summary>PEM file of certificates trusted for an https:// coordinator.</summary>
    public string? CoordinatorTrust { get; set; }

    public Protocol Protocol { get; set; } = Protocol.Unspecified;

    /// <summary>Official fallback URIs (repos.conf sync-uri and configured ones), tried after every candidate.</summary>
    public List<string> Official { get; } = [];

    public string Keyring { get; set; } = DefaultKeyring;

    /// <summary>Candidates asked from the coordinator (0: its default).</summary>
    public uint Candidates { get; set; }

    public LocationHint? Near { get; set; }

    /// <summary>How many of the first candidates get a TCP connect-time probe (0: keep the coordinator's order).</summary>
    public int ProbeCount { get; set; } = 3;

    public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromSeconds(2);

    public TimeSpan CoordinatorTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>rsync --contimeout and the TCP connect budget for git.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Longest a transfer from one source may take before the next one is tried.</summary>
    public TimeSpan TransferTimeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>rsync --timeout (I/O silence); portage uses 180 s.</summary>
    public TimeSpan IoTimeout { get; set; } = TimeSpan.FromSeconds(180);

    /// <summary>Directory of postsync hooks; run only when it exists.</summary>
    public string PostSyncDirectory { get; set; } = DefaultPostSyncDirectory;

    /// <summary>False when the caller runs the hooks itself (portage's sync module: emerge runs repo.postsync.d after it returns).</summary>
    public bool RunPostSyncHooks { get; set; } = true;

    /// <summary>
    /// rsync: hash each file as rsync reports it received (<see cref="Tree.Manifests.FilesHashedAhead"/>), so that
    /// verification after the transfer hashes only what is still unknown. Same verification, same result.
    /// </summary>
    public bool HashWhileReceiving { get; set; } = true;

    public bool Json { get; set; }

    public bool Quiet { get; set; }

    /// <summary>
    /// Remove the replaced tree with a detached low-priority <c>rm -rf</c> after the swap instead of waiting for it (the
    /// command ends when the new tree is in place); an interrupted removal is redone by the next run.
    /// </summary>
    public bool RemoveOldTreeInBackground { get; set; } = true;

    /// <summary>
    /// rsync options added to portage's (<c>--rsync-opt</c>, repos.conf sync-rsync-extra-opts through the portage module):
    /// only those that change how a mirror is reached, never which files arrive (<see cref="RsyncOptionsKept"/>).
    /// </summary>
    public List<string> RsyncExtraOptions { get; } = [];

    /// <summary>Prefixes of the rsync options <see cref="RsyncExtraOptions"/> may hold: every tree is verified in full, so an --exclude could only fail.</summary>
    public static IReadOnlyList<string> RsyncOptionsKept { get; } = ["--bwlimit=", "--address=", "--sockopts=", "--ipv4", "-4", "--ipv6", "-6"];

    public string Rsync { get; set; } = "rsync";

    public string Git { get; set; } = "git";

    public string Gpg { get; set; } = "gpg";

    /// <summary>The official URIs to use for <paramref name="protocol"/> when nothing else is configured.</summary>
    public static string DefaultOfficial(Protocol protocol) => protocol == Protocol.Git ? DefaultOfficialGit : DefaultOfficialRsync;
}
