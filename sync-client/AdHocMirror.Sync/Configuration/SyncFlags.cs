namespace AdHocMirror.Sync.Configuration;

/// <summary>What the command line said; null means "not given" so that the settings file and defaults apply.</summary>
public sealed record SyncFlags
{
    public string? Config { get; init; }
    public string? Repo { get; init; }
    public string? Coordinator { get; init; }
    public string? CoordinatorTrust { get; init; }
    public bool NoCoordinator { get; init; }
    public string? Protocol { get; init; }
    public IReadOnlyList<string> Official { get; init; } = [];
    public string? Keyring { get; init; }
    public uint? Candidates { get; init; }
    public string? Near { get; init; }
    public int? Probe { get; init; }
    public string? ConnectTimeout { get; init; }
    public string? TransferTimeout { get; init; }
    public string? CoordinatorTimeout { get; init; }
    public string? ReposConf { get; init; }
    public string? PostSyncDir { get; init; }
    public bool NoPostSyncHooks { get; init; }
    public bool HashAfterTransfer { get; init; }
    public IReadOnlyList<string> RsyncOptions { get; init; } = [];
    public bool Json { get; init; }
    public bool Quiet { get; init; }
}
