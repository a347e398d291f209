using System.Net;

namespace AdHocMirror.Hosting;

/// <summary>
/// One address a <see cref="GrpcServer"/> listens on: cleartext h2c (gRPC clients speak HTTP/2 with prior knowledge),
/// or TLS with a PEM certificate and key (h2 by ALPN). <paramref name="PlainHttp"/> makes a cleartext HTTP/1.1
/// endpoint instead, for scrapers of plain routes (/metrics) that do not speak h2c; gRPC is not offered there.
/// </summary>
public sealed record GrpcEndpoint(IPEndPoint EndPoint, string? CertificateFile = null, string? KeyFile = null, bool PlainHttp = false)
{
    public bool UsesTls => CertificateFile is not null;

    /// <summary>Parses <c>HOST:PORT</c>, <c>[v6]:PORT</c> or <c>*:PORT</c>; HOST must be an IP address or localhost.</summary>
    public static GrpcEndpoint Parse(string text, string? certificateFile = null, string? keyFile = null) =>
        HostPort.TryParseEndPoint(text, out var endPoint, out var error)
            ? new GrpcEndpoint(endPoint, certificateFile, keyFile)
            : throw new FormatException(error);
}
