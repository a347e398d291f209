namespace AdHocMirror.Wire;

/// <summary>Per-call settings on the client side.</summary>
public readonly record struct CallOptions(Metadata? Headers = null, DateTimeOffset? Deadline = null, CancellationToken CancellationToken = default)
{
    public static CallOptions WithTimeout(TimeSpan timeout, Metadata? headers = null, CancellationToken cancellationToken = default) =>
        new(headers, DateTimeOffset.UtcNow + timeout, cancellationToken);
}

/// <summary>A unary response with the metadata that came with it.</summary>
public sealed record GrpcResponse<T>(T Message, Metadata Headers, Metadata Trailers);

public sealed class GrpcChannelOptions
{
    public int MaxReceiveMessageSize { get; set; } = GrpcServerOptions.DefaultMaxMessageSize;

    public int MaxSendMessageSize { get; set; } = GrpcServerOptions.DefaultMaxMessageSize;

    /// <summary>PEM file of certificates to trust for https:// addresses (a private CA or a self-signed server).</summary>
    public string? TrustedCertificatesFile { get; set; }

    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Source address for connections (a host with several addresses, the loopback demo); null = the system's choice.</summary>
    public System.Net.IPAddress? LocalAddress { get; set; }

    public string UserAgent { get; set; } = "ahm-grpc/" + typeof(GrpcChannelOptions).Assembly.GetName().Version?.ToString(3);
}
