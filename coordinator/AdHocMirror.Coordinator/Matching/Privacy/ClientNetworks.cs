using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace AdHocMirror.Coordinator.Matching.Privacy;

/// <summary>
/// A client network (IPv4 /24, IPv6 /48) as budget and rate limit know it: a keyed hash (SipHash-2-4, keys derived
/// from the current window's secret) of its prefix, never the prefix. <see cref="Seed"/> keys its stable choice of
/// volunteers; since the secret is shared through the store (<see cref="RevealWindowSync"/>), every coordinator computes the same.
/// </summary>
public readonly record struct ClientNetwork(long Window, UInt128 Tag, ulong Seed);

/// <summary>Turns a peer address into its <see cref="ClientNetwork"/> under the window's secret, from memory (<see cref="RevealWindows"/>).</summary>
/// <remarks>Not sealed: the benchmark spreads one address's load over made-up networks, as real traffic comes from many.</remarks>
public class ClientNetworks(RevealWindows windows)
{
    private static readonly byte[] KeysLabel = "ahm client network keys v1"u8.ToArray();
    private WindowKeys? _keys;

    public long CurrentWindow => windows.Current;

    public virtual ClientNetwork Of(IPAddress? peer)
    {
        var window = CurrentWindow;
        var keys = KeysOf(window);
        Span<byte> prefix = stackalloc byte[17];
        var length = Prefix(peer, prefix);
        var bytes = prefix[..length];
        var tag = new UInt128(SipHash.Hash(keys.High0, keys.High1, bytes), SipHash.Hash(keys.Low0, keys.Low1, bytes));
        return new ClientNetwork(window, tag, SipHash.Hash(keys.Seed0, keys.Seed1, bytes));
    }

    /// <summary>
    /// The window's three SipHash keys, derived from its secret once (HMAC-SHA512 costs microseconds, too much for
    /// every call); kept for the latest window asked, which is the current one but for calls in flight at a turn.
    /// </summary>
    private WindowKeys KeysOf(long window)
    {
        if (Volatile.Read(ref _keys) is { } keys && keys.Window == window)
        {
            return keys;
        }

        Span<byte> derived = stackalloc byte[64];
        HMACSHA512.HashData(windows.SecretOf(window), KeysLabel, derived);
        keys = new WindowKeys(
            window,
            BinaryPrimitives.ReadUInt64LittleEndian(derived),
            BinaryPrimitives.ReadUInt64LittleEndian(derived[8..]),
            BinaryPrimitives.ReadUInt64LittleEndian(derived[16..]),
            BinaryPrimitives.ReadUInt64LittleEndian(derived[24..]),
            BinaryPrimitives.ReadUInt64LittleEndian(derived[32..]),
            BinaryPrimitives.ReadUInt64LittleEndian(derived[40..]));
        Volatile.Write(ref _keys, keys);
        return keys;
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

    private sealed record WindowKeys(long Window, ulong High0, ulong High1, ulong Low0, ulong Low1, ulong Seed0, ulong Seed1);
}
