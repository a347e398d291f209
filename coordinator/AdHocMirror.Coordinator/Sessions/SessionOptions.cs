namespace AdHocMirror.Coordinator.Sessions;

/// <summary>Which ping addresses a mirror may advertise.</summary>
public enum PingAddressPolicy
{
    /// <summary>The ping host must be the address the mirror logged in from, so nobody can make the coordinator ping a third party.</summary>
    SameAsCaller,

    /// <summary>Any address or host name (labs, NAT with a separate public address, the loopback demo).</summary>
    Any,
}

public sealed class SessionOptions
{
    public PingAddressPolicy PingAddressPolicy { get; set; } = PingAddressPolicy.SameAsCaller;
}
