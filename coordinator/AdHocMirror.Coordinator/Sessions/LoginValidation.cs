using System.Globalization;
using System.Net;
using AdHocMirror.Contracts.V1;
using Grpc.Core;

namespace AdHocMirror.Coordinator.Sessions;

/// <summary>Checks what a mirror advertises at login; a bad field is INVALID_ARGUMENT naming it.</summary>
public static class LoginValidation
{
    public const int MaxSoftwareLength = 200;
    public const uint MaxClientsLimit = 100_000;

    public static void Check(LoginRequest request, IPAddress? peer, PingAddressPolicy policy)
    {
        var endpoints = request.Endpoints ?? throw Invalid("endpoints are required");
        if (endpoints.RsyncUri.Length == 0 && endpoints.GitUri.Length == 0)
        {
            throw Invalid("endpoints: at least one of rsync_uri and git_uri is required");
        }

        CheckUri("rsync_uri", endpoints.RsyncUri, "rsync");
        CheckUri("git_uri", endpoints.GitUri, "git");
        CheckPingAddress(endpoints.PingAddress, peer, policy);
        if (request.Limits is null || request.Limits.MaxClients == 0)
        {
            throw Invalid("limits.max_clients must be greater than 0");
        }

        if (request.Limits.MaxClients > MaxClientsLimit)
        {
            throw Invalid($"limits.max_clients must be at most {MaxClientsLimit}");
        }

        if (request.Software.Length > MaxSoftwareLength)
        {
            throw Invalid($"software is longer than {MaxSoftwareLength} characters");
        }

        CheckVersions(request.Versions, endpoints);
        CheckServeTo(request.ServeTo);
    }

    /// <summary>Half the earth's circumference, rounded down: no two places are farther apart.</summary>
    public const uint MaxRadiusKm = 20_000;

    private static void CheckServeTo(ServeTo? serveTo)
    {
        if (serveTo is null)
        {
            return;
        }

        if (!Enum.IsDefined(serveTo.Reach))
        {
            throw Invalid($"serve_to.reach {(int)serveTo.Reach} is not one of anywhere, continent, country, radius");
        }

        if (serveTo.Reach == ServeTo.Types.Reach.Radius && serveTo.RadiusKm is 0 or > MaxRadiusKm)
        {
            throw Invalid($"serve_to.radius_km must be 1..{MaxRadiusKm} for a radius reach");
        }

        if (serveTo.Reach != ServeTo.Types.Reach.Radius && serveTo.RadiusKm != 0)
        {
            throw Invalid("serve_to.radius_km is only for a radius reach");
        }
    }

    public static void CheckVersions(IEnumerable<TreeVersion> versions, MirrorEndpoints? endpoints = null)
    {
        var seen = new HashSet<Protocol>();
        foreach (var version in versions)
        {
            if (version.Protocol is not (Protocol.Rsync or Protocol.Git))
            {
                throw Invalid("versions: each version needs a protocol (rsync or git)");
            }

            if (!seen.Add(version.Protocol))
            {
                throw Invalid($"versions: {version.Protocol} is listed twice");
            }

            if (version.Generated is null)
            {
                throw Invalid($"versions: the {version.Protocol} version has no generated time");
            }

            if (version.Commit.Length > 64 || version.Commit.Any(c => !char.IsAsciiHexDigit(c)))
            {
                throw Invalid($"versions: '{version.Commit}' is not a hex commit id");
            }

            if (endpoints is not null && ((version.Protocol == Protocol.Rsync && endpoints.RsyncUri.Length == 0) || (version.Protocol == Protocol.Git && endpoints.GitUri.Length == 0)))
            {
                throw Invalid($"versions: a {version.Protocol} version is reported but no {version.Protocol} endpoint is served");
            }
        }
    }

    private static void CheckUri(string field, string text, string scheme)
    {
        if (text.Length == 0)
        {
            return;
        }

        if (text.Length > 1024 || !Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme != scheme
            || uri.Host.Length == 0 || uri.UserInfo.Length > 0 || uri.Query.Length > 0 || uri.Fragment.Length > 0
            || uri.AbsolutePath.Length <= 1 || uri.HostNameType == UriHostNameType.Unknown)
        {
            throw Invalid($"endpoints.{field} '{Truncate(text)}' is not a {scheme}://HOST[:PORT]/PATH URI");
        }
    }

    private static void CheckPingAddress(string text, IPAddress? peer, PingAddressPolicy policy)
    {
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            throw Invalid($"endpoints.ping_address '{Truncate(text)}' is not HOST:PORT");
        }

        var host = text[..colon];
        var bracketed = host.StartsWith('[') && host.EndsWith(']');
        if (bracketed)
        {
            host = host[1..^1];
        }

        var isAddress = IPAddress.TryParse(host, out var address) && (bracketed || address!.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork);
        if (policy == PingAddressPolicy.SameAsCaller)
        {
            if (!isAddress)
            {
                throw Invalid($"endpoints.ping_address '{Truncate(text)}' must be IP:PORT (or [IPv6]:PORT) of the address you connect from");
            }

            var unmapped = address!.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
            if (peer is null || !unmapped.Equals(peer))
            {
                throw new RpcException(new Status(StatusCode.PermissionDenied, "endpoints.ping_address must be the address this login comes from; the coordinator pings no third party"));
            }
        }
        else if (!isAddress && Uri.CheckHostName(host) != UriHostNameType.Dns)
        {
            throw Invalid($"endpoints.ping_address '{Truncate(text)}' has no valid host");
        }
    }

    private static string Truncate(string text) => text.Length > 80 ? text[..80] + "…" : text;

    private static RpcException Invalid(string message) => new(new Status(StatusCode.InvalidArgument, message));
}
