using System.Net;
using System.Net.Sockets;

namespace AdHocMirror.Testing;

/// <summary>
/// Loopback ports for servers that cannot be told to pick their own (rsync, git daemon).
/// </summary>
/// <remarks>
/// A port the kernel hands out for "port 0" comes from the ephemeral range, where any outgoing
/// connection of any process may take it before the server we start binds it; and test projects run
/// in parallel processes. So ports come from below the ephemeral range, and each is claimed with a
/// lock file held until this process ends, so no other test process picks it meanwhile.
/// </remarks>
public static class FreePort
{
    private const int First = 20_000;
    private const int Last = 32_000;
    private static readonly string ClaimDirectory = Path.Combine(Path.GetTempPath(), "ahm-test-ports");
    private static readonly List<FileStream> Claims = [];
    private static readonly Lock Gate = new();
    private static int _next = First + Random.Shared.Next(Last - First);

    public static int Next(IPAddress? address = null)
    {
        Directory.CreateDirectory(ClaimDirectory);
        lock (Gate)
        {
            for (var tried = 0; tried <= Last - First; tried++)
            {
                var port = _next;
                _next = _next >= Last ? First : _next + 1;
                if (TryClaim(port) is not { } claim)
                {
                    continue;
                }

                if (IsFree(address ?? IPAddress.Loopback, port))
                {
                    Claims.Add(claim);
                    return port;
                }

                claim.Dispose();
            }
        }

        throw new InvalidOperationException($"no free loopback port between {First} and {Last}");
    }

    private static FileStream? TryClaim(int port)
    {
        try
        {
            // FileShare.None takes an exclusive flock(2): released by the kernel when this process ends, however it ends.
            return new FileStream(Path.Combine(ClaimDirectory, port.ToString(System.Globalization.CultureInfo.InvariantCulture)), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static bool IsFree(IPAddress address, int port)
    {
        try
        {
            using var listener = new TcpListener(address, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
