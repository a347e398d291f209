namespace AdHocMirror.Coordinator.Keys;

/// <summary>Key lifetime, housekeeping and registration limits.</summary>
public sealed class KeyOptions
{
    /// <summary>A key expires this long after issue; mirrors rotate before.</summary>
    public TimeSpan Lifetime { get; set; } = TimeSpan.FromDays(30);

    /// <summary>A key unused (no call, no good ping) for this long is revoked as dormant.</summary>
    public TimeSpan IdleLimit { get; set; } = TimeSpan.FromDays(14);

    /// <summary>Ended key ids stay tombstoned (never issued again) this long.</summary>
    public TimeSpan CoolOff { get; set; } = TimeSpan.FromDays(90);

    /// <summary>Registrations accepted per source network (IPv4 /24, IPv6 /48) per hour.</summary>
    public int RegistrationsPerNetworkPerHour { get; set; } = 20;

    /// <summary>Live mirrors (open sessions) one source address may hold; more registrations and logins are refused.</summary>
    public int MaxMirrorsPerAddress { get; set; } = 8;

    /// <summary>How often housekeeping runs (expiry, dormancy, tombstones, blacklists, last-use flush).</summary>
    public TimeSpan HousekeepingInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Most dormant keys revoked in one housekeeping pass (least recently used first).</summary>
    public int DormantBatch { get; set; } = 1000;
}
