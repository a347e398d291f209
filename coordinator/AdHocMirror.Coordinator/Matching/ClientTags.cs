using System.Net;
using System.Security.Cryptography;

namespace AdHocMirror.Coordinator.Matching;

/// <summary>
/// Tells clients apart for quarantine decisions without keeping their addresses: a keyed hash
/// whose key lives only in this process's memory, so a tag cannot be turned back into an address.
/// </summary>
public sealed class ClientTags
{
    private readonly byte[] _key = RandomNumberGenerator.GetBytes(32);

    public string Of(IPAddress? address)
    {
        if (address is null)
        {
            // Unknown peer: every call counts as its own client rather than all as one.
            return "anon-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        }

        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out var written);
        Span<byte> hash = stackalloc byte[32];
        HMACSHA256.HashData(_key, bytes[..written], hash);
        return Convert.ToHexStringLower(hash[..8]);
    }
}
