using System.Net;

namespace AdHocMirror.Clients;

/// <summary>How a program's channel to one target is made; see <see cref="GrpcChannels"/>.</summary>
public sealed record ChannelSettings
{
    /// <summary>PEM file of certificates to trust for https:// addresses: a private CA, or the server's own self-signed certificate (pinned).</summary>
    public string? TrustedCertificatesFile { get; init; }

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Source address for connections (a host with several addresses, the loopback demo); null = the system's choice.</summary>
    public IPAddress? LocalAddress { get; init; }

    public int MaxReceiveMessageSize { get; init; } = 4 * 1024 * 1024;

    public int MaxSendMessageSize { get; init; } = 1024 * 1024;

    /// <summary>Retry the idempotent calls on UNAVAILABLE through the gRPC service config (off for pings: a failed ping is information).</summary>
    public bool RetryIdempotentCalls { get; init; } = true;

    /// <summary>Longest wait before a channel over several servers tries again when none answered (grpc-dotnet's default is 2 min).</summary>
    public TimeSpan MaxReconnectBackoff { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a channel over several servers leaves out one that let a call's deadline pass unanswered.</summary>
    public TimeSpan SetAsideAfterDeadline { get; init; } = TimeSpan.FromMinutes(1);
}
