using System.Globalization;
using System.Net;
using AdHocMirror.Contracts;
using AdHocMirror.Contracts.V1;
using AdHocMirror.Coordinator.Edge;
using Grpc.Core;

namespace AdHocMirror.Coordinator.Sessions;

/// <summary>Checks what a mirror advertises at login; a bad field is INVALID_ARGUMENT naming it.</summary>
public static class LoginValidation
{
    public const int MaxSoftwareLength = 200;
    public const uint MaxClientsLimit = 100_000;
    public const int MaxUriLength = 1024;

    /// <summary>The rsync module every daemon serves (ahm-daemon's DaemonOptions.RsyncModule).</summary>
    public const string RsyncPath = "/gentoo-portage";

    /// <summary>The git repository every daemon serves (ahm-daemon's DaemonOptions.GitRepository).</summary>
    public const string GitPath = "/gentoo.git";

    public static void Check(LoginRequest request, IPAddress? peer, PingAddressPolicy policy, DateTimeOffset now)
    {
        var endpoints = request.Endpoints ?? throw Invalid("endpoints are required");
        if (endpoints.RsyncUri.Length == 0 && endpoints.GitUri.Length == 0)
        {
            throw Invalid("endpoints: at least one of rsync_uri and git_uri is required");
        }

        CheckUri("rsync_uri", endpoints.RsyncUri, "rsync", RsyncPath);
        CheckUri("git_uri", endpoints.GitUri, "git", GitPath);
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

        CheckVersions(request.Versions, now, endpoints);
        CheckServeTo(request.ServeTo);
    }

    /// <summary>
    /// Checks a login read back from the store, as a login is checked when it arrives but without the
    /// caller (long gone) or the ping-address policy of that day: rows written before a rule existed, or
    /// by an older coordinator, must not reach the mirror directory and break pings or admin views.
    /// </summary>
    public static void CheckStored(LoginRequest request, DateTimeOffset now) => Check(request, null, PingAddressPolicy.Any, now);

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

    public static void CheckVersions(IEnumerable<TreeVersion> versions, DateTimeOffset now, MirrorEndpoints? endpoints = null)
    {
        var seen = new HashSet<Protocol>();
        var index = 0;
        foreach (var version in versions)
        {
            if (index >= 2)
            {
                throw Invalid("versions: at most one version per protocol");
            }

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

            FieldRules.CheckVersion($"versions[{index}]", version, now);

            if (endpoints is not null && ((version.Protocol == Protocol.Rsync && endpoints.RsyncUri.Length == 0) || (version.Protocol == Protocol.Git && endpoints.GitUri.Length == 0)))
            {
                throw Invalid($"versions: a {version.Protocol} version is reported but no {version.Protocol} endpoint is served");
            }

            index++;
        }
    }

    /// <summary>
    /// An endpoint is exactly what a daemon serves: SCHEME://HOST[:PORT]/FIXED-PATH, port 1-65535. The path is
    /// compared as sent, before any unescaping or dot-segment folding, so no variant of it passes.
    /// </summary>
    private static void CheckUri(string field, string text, string scheme, string path)
    {
        if (text.Length == 0)
        {
            return;
        }

        var shape = $"endpoints.{field} {InputText.Quote(text)} is not {scheme}://HOST[:PORT]{path}";
        var prefix = scheme + "://";
        if (text.Length > MaxUriLength || !text.StartsWith(prefix, StringComparison.Ordinal) || !Uri.TryCreate(text, UriKind.Absolute, out var uri))
        {
            throw Invalid(shape);
        }

        var slash = text.IndexOf('/', prefix.Length);
        var authority = slash < 0 ? text[prefix.Length..] : text[prefix.Length..slash];
        if (slash < 0 || !string.Equals(text[slash..], path, StringComparison.Ordinal)
            || authority.Length == 0 || authority.Contains('@', StringComparison.Ordinal) || authority.Contains('%', StringComparison.Ordinal)
            || uri.Host.Length == 0 || uri.HostNameType is UriHostNameType.Unknown or UriHostNameType.Basic
            || uri.UserInfo.Length > 0 || uri.Query.Length > 0 || uri.Fragment.Length > 0 || uri.AbsolutePath != path)
        {
            throw Invalid(shape);
        }

        // Uri accepts ":0" and an empty ":" and reports the scheme's default (or none) for them.
        var portColon = authority.LastIndexOf(':');
        if (portColon >= 0 && portColon > authority.LastIndexOf(']'))
        {
            var portText = authority[(portColon + 1)..];
            if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535 || portText.Length > 5)
            {
                throw Invalid($"endpoints.{field} {InputText.Quote(text)}: the port must be 1 to 65535");
            }
        }
    }

    private static void CheckPingAddress(string text, IPAddress? peer, PingAddressPolicy policy)
    {
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            throw Invalid($"endpoints.ping_address {InputText.Quote(text)} is not HOST:PORT");
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
                throw Invalid($"endpoints.ping_address {InputText.Quote(text)} must be IP:PORT (or [IPv6]:PORT) of the address you connect from");
            }

            var unmapped = address!.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
            if (peer is null || !unmapped.Equals(peer))
            {
                throw new RpcException(new Status(StatusCode.PermissionDenied, "endpoints.ping_address must be the address this login comes from; the coordinator pings no third party"));
            }
        }
        else if (!isAddress && Uri.CheckHostName(host) != UriHostNameType.Dns)
        {
            throw Invalid($"endpoints.ping_address {InputText.Quote(text)} has no valid host");
        }
    }

    private static RpcException Invalid(string message) => FieldRules.Invalid(message);
}
