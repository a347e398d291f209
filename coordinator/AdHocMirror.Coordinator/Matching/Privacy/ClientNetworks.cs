using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using AdHocMirror.Coordinator.Storage;
using Microsoft.Extensions.Logging;

namespace AdHocMirror.Coordinator.Matching.Privacy;

/// <summary>
/// A client network (IPv4 /24, IPv6 /48) as budget and rate limit know it: a keyed hash of its prefix
/// under the current window's secret, never the prefix. <see cref="Seed"/> keys its stable choice of
/// volunteers; since the secret is shared through the store, every coordinator computes the same.
/// </summary>
public readonly record struct ClientNetwork(long Window, UInt128 Tag, ulong Seed);

/// <summary>Turns a peer address into its <see cref="ClientNetwork"/>; keeps the window secrets (one store read per window).</summary>
/// <remarks>Not sealed: the benchmark spreads one address's load over made-up networks, as real traffic comes from many.</remarks>
public partial class ClientNetworks(PrivacyOptions options, IRevealSecrets secrets, TimeProvider clock, ILogger<ClientNetworks> logger)
{
    private readonly Lock _gate = new();
    private WindowSecret? _current;

    public long CurrentWindow => clock.GetUtcNow().UtcTicks / Math.Max(1, options.RevealWindow.Ticks);

    public virtual ClientNetwork Of(IPAddress? peer)
    {
        var window = CurrentWindow;
        var secret = SecretOf(window);
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

    private byte[] SecretOf(long window)
    {
        var current = Volatile.Read(ref _current);
        if (current?.Window == window)
        {
            return current.Secret;
        }

        lock (_gate)
        {
            if (_current?.Window == window)
            {
                return _current.Secret;
            }

            byte[] secret;
            var proposed = RandomNumberGenerator.GetBytes(32);
            try
            {
                // Once per window; the store is local (SQLite) or answers within the bound.
                secret = secrets.GetOrAddRevealSecretAsync(window, proposed).WaitAsync(TimeSpan.FromSeconds(5)).GetAwaiter().GetResult();
            }
            catch (Exception e) when (e is TimeoutException or InvalidOperationException or IOException or System.Data.Common.DbException or Grpc.Core.RpcException)
            {
                // The budget still holds in this process; only agreement with other coordinators is lost for the window.
                // A shared store that is away (UNAVAILABLE) must not stop FindMirror, which answers from memory.
                LogSecretUnavailable(logger, window, e.Message);
                secret = proposed;
            }

            Volatile.Write(ref _current, new WindowSecret(window, secret));
            return secret;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reveal window {Window}: the store did not give its secret ({Error}); using one of this process")]
    private static partial void LogSecretUnavailable(ILogger logger, long window, string error);

    private sealed record WindowSecret(long Window, byte[] Secret);
}
