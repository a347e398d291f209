using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace AdHocMirror.Coordinator.Matching.Privacy;

/// <summary>
/// A client network (IPv4 /24, IPv6 /48) as budget and rate limit know it: a keyed hash of its prefix
/// under the current window's secret, never the prefix. <see cref="Seed"/> keys its stable choice of
/// volunteers; since the secret is shared through the store (<see cref="RevealWindowSync"/>), every coordinator computes the same.
/// </summary>
public readonly record struct ClientNetwork(long Window, UInt128 Tag, ulong Seed);

/// <summary>Turns a peer address into its <see cref="ClientNetwork"/> under the window's secret, from memory (<see cref="RevealWindows"/>).</summary>
/// <remarks>Not sealed: the benchmark spreads one address's load over made-up networks, as real traffic comes from many.</remarks>
public class ClientNetworks(RevealWindows windows)
{
    public long CurrentWindow => windows.Current;

    public virtual ClientNetwork Of(IPAddress? peer)
    {
        var window = CurrentWindow;
        var secret = windows.SecretOf(window);
        Span<byte> prefix = stackalloc byte[17];
        var length = Prefix(peer, prefix);
        Span<byte> hash = stackalloc byte[32];
        HMACSHA256.HashData(secret, prefix[..length], hash);
        return new ClientNetwork(window, BinaryPrimitives.ReadUInt128LittleEndian(hash), BinaryPrimitives.ReadUInt64LittleEndian(hash[16..]));
    }

    /// <summary>Family then the network's prefix bytes; an unknown peer is one network of its own kind.</summary>
    private static int Prefix(IPAddress? peer, Span<byte> into)
    {
        if (peer is null)
        {
            into[0] = 0;
            return 1;
        }

        if (peer.IsIPv4MappedToIPv6)
        {
            peer = peer.MapToIPv4();
        }

        peer.TryWriteBytes(into[1..], out _);
        var v4 = peer.AddressFamily == AddressFamily.InterNetwork;
        into[0] = v4 ? (byte)4 : (byte)6;
        return 1 + (v4 ? 3 : 6); // /24 and /48, as SourceNetwork counts
    }
}
