namespace AdHocMirror.Coordinator.Cluster;

/// <summary>How coordinators sharing one PostgreSQL database find each other, follow each other and divide the work.</summary>
public sealed class ClusterOptions
{
    /// <summary>How often each coordinator writes its heartbeat row and reads the others'.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>A coordinator whose heartbeat is older than this (by the database's clock) is taken for dead: its mirrors are pinged by the others.</summary>
    public TimeSpan DeadAfter { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often the others' committed changes are read: the bound on how long a revoke, blacklist or quarantine made elsewhere takes to hold here.</summary>
    public TimeSpan ChangePollInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>How long change rows are kept; a coordinator cut off from the database for longer reloads everything.</summary>
    public TimeSpan ChangeRetention { get; set; } = TimeSpan.FromHours(1);

    /// <summary>The public URL shown for this coordinator (admin stats); by default derived from the listen address.</summary>
    public string? Advertise { get; set; }

    /// <summary>A share of capacity grows only this long after the view of the coordinators changed, once every coordinator has seen the change and shrunk its own.</summary>
    public TimeSpan SettleTime => HeartbeatInterval * 2 + ChangePollInterval;
}
