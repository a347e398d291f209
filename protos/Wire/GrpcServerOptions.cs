namespace AdHocMirror.Wire;

public sealed class GrpcServerOptions
{
    public const int DefaultMaxMessageSize = 4 * 1024 * 1024;

    /// <summary>Largest request message accepted; larger ones get RESOURCE_EXHAUSTED before being buffered.</summary>
    public int MaxReceiveMessageSize { get; set; } = DefaultMaxMessageSize;

    /// <summary>Largest response message sent; a service producing a larger one gets RESOURCE_EXHAUSTED.</summary>
    public int MaxSendMessageSize { get; set; } = DefaultMaxMessageSize;

    /// <summary>Concurrent streams a client may open on one HTTP/2 connection.</summary>
    public int MaxStreamsPerConnection { get; set; } = 256;
}

/// <summary>
/// One address a <see cref="GrpcServer"/> listens on: cleartext h2c, or TLS with a PEM certificate and key.
/// <paramref name="PlainHttp"/> makes a cleartext HTTP/1.1 endpoint instead, for scrapers of the plain
/// HTTP routes (/metrics) that do not speak h2c; gRPC is not available there.
/// </summary>
public sealed record GrpcListenEndpoint(System.Net.IPEndPoint EndPoint, string? CertificateFile = null, string? KeyFile = null, bool PlainHttp = false)
{
    public bool UsesTls => CertificateFile is not null;

    /// <summary>Parses <c>HOST:PORT</c>, <c>[v6]:PORT</c> or <c>*:PORT</c>; HOST must be an IP address or localhost.</summary>
    public static GrpcListenEndpoint Parse(string text, string? certificateFile = null, string? keyFile = null)
    {
        if (!HostPort.TryParseEndPoint(text, out var endPoint, out var error))
        {
            throw new FormatException(error);
        }

        return new GrpcListenEndpoint(endPoint, certificateFile, keyFile);
    }
}
