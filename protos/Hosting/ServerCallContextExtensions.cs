using System.Net;
using Grpc.Core;

namespace AdHocMirror.Hosting;

/// <summary>What the edge reads off a call for the domain, so that no domain class sees a <see cref="ServerCallContext"/>.</summary>
public static class ServerCallContextExtensions
{
    /// <summary>The caller's address (IPv4-mapped addresses unmapped), or null when unknown.</summary>
    public static IPAddress? PeerAddress(this ServerCallContext context)
    {
        var address = context.GetHttpContext().Connection.RemoteIpAddress;
        return address is { IsIPv4MappedToIPv6: true } ? address.MapToIPv4() : address;
    }

    /// <summary>
    /// One request header as sent, read from HTTP rather than <see cref="ServerCallContext.RequestHeaders"/>: building
    /// that collection decodes every <c>-bin</c> header, and a caller's malformed base64 there would throw.
    /// </summary>
    public static string? Header(this ServerCallContext context, string name)
    {
        var values = context.GetHttpContext().Request.Headers[name];
        return values.Count > 0 ? values[0] : null;
    }

    /// <summary>The bearer credential of the <c>authorization</c> metadata, or null.</summary>
    public static string? BearerToken(this ServerCallContext context)
    {
        var value = context.Header("authorization");
        const string prefix = "Bearer ";
        return value is not null && value.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) ? value[prefix.Length..].Trim() : null;
    }
}
