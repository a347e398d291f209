using System.Globalization;
using System.Net;

namespace AdHocMirror.Hosting;

/// <summary>Parses the <c>HOST:PORT</c> listen addresses of the command lines.</summary>
public static class HostPort
{
    public static bool TryParseEndPoint(string? text, out IPEndPoint endPoint, out string error)
    {
        endPoint = new IPEndPoint(IPAddress.None, 0);
        error = string.Empty;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "an address is required, as HOST:PORT";
            return false;
        }

        text = text.Trim();
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || colon == text.Length - 1)
        {
            error = $"'{text}' is not HOST:PORT";
            return false;
        }

        var host = text[..colon];
        if (!int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > 65535)
        {
            error = $"'{text}' has no valid port (0-65535)";
            return false;
        }

        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            host = host[1..^1];
        }

        IPAddress? address = host switch
        {
            "*" => IPAddress.IPv6Any,
            "localhost" => IPAddress.Loopback,
            _ => IPAddress.TryParse(host, out var parsed) ? parsed : null,
        };
        if (address is null)
        {
            error = $"'{host}' is not an IP address (use an address, '*' or 'localhost')";
            return false;
        }

        endPoint = new IPEndPoint(address, port);
        return true;
    }
}
