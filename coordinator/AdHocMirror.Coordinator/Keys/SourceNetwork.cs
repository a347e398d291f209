using AdHocMirror.Contracts;
using System.Net;
using System.Net.Sockets;

namespace AdHocMirror.Coordinator.Keys;

/// <summary>
/// The network an address counts against (IPv4 /24, IPv6 /48): what rate limits count and the most
/// of a client address that is ever logged.
/// </summary>
public static class SourceNetwork
{
    public static IPNetwork Of(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        var prefix = address.AddressFamily == AddressFamily.InterNetwork ? 24 : 48;
        var bytes = address.GetAddressBytes();
        for (var bit = prefix; bit < bytes.Length * 8; bit++)
        {
            bytes[bit / 8] &= (byte)~(0x80 >> (bit % 8));
        }

        return new IPNetwork(new IPAddress(bytes), prefix);
    }

    /// <summary>For logs: the prefix only, never the full address.</summary>
    public static string Describe(IPAddress? address) => address is null ? "unknown" : Of(address).ToString();

    /// <summary>Parses a CIDR prefix, refusing host bits set beyond the prefix (a likely typo).</summary>
    public static bool TryParseCidr(string? text, out IPNetwork network, out string error)
    {
        network = default;
        error = string.Empty;
        if (string.IsNullOrWhiteSpace(text) || !text.Contains('/', StringComparison.Ordinal))
        {
            error = $"{InputText.Quote(text)} is not a CIDR prefix (e.g. 198.51.100.0/24 or 2001:db8::/48)";
            return false;
        }

        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (!IPAddress.TryParse(text.AsSpan(0, slash), out var address)
            || !int.TryParse(text.AsSpan(slash + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var length)
            || length > (address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128))
        {
            error = $"{InputText.Quote(text)} is not a CIDR prefix (e.g. 198.51.100.0/24 or 2001:db8::/48)";
            return false;
        }

        if (!IPNetwork.TryParse(text.Trim(), out network) || !network.BaseAddress.Equals(address))
        {
            error = $"{InputText.Quote(text)} has address bits set beyond the /{length} prefix";
            return false;
        }

        return true;
    }
}
