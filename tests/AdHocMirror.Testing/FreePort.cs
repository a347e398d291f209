using System.Net;
using System.Net.Sockets;

namespace AdHocMirror.Testing;

/// <summary>Loopback ports for servers that cannot be told to pick their own (rsync, git daemon).</summary>
public static class FreePort
{
    public static int Next(IPAddress? address = null)
    {
        using var listener = new TcpListener(address ?? IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
