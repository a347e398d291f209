using System.Net.Sockets;
using Grpc.Core;
using Npgsql;

namespace AdHocMirror.Coordinator.Storage;

/// <summary>
/// Tells a database that cannot be reached from one that refused a statement. A coordinator whose
/// database is away keeps answering from memory, and refuses writes with UNAVAILABLE, the status a
/// client retries (at another coordinator, or later).
/// </summary>
public static class StoreUnavailable
{
    public const string Detail = "the coordinator's database is unreachable; try another coordinator or again shortly";

    public static bool Is(Exception e) => e switch
    {
        // Connection exceptions (08), the server shutting down or starting (57P01-57P03), out of resources (53).
        PostgresException p => p.SqlState.StartsWith("08", StringComparison.Ordinal) || p.SqlState.StartsWith("57P", StringComparison.Ordinal)
            || p.SqlState.StartsWith("53", StringComparison.Ordinal),
        NpgsqlException => true, // not a server's answer: the socket, a timeout, a broken stream
        SocketException or TimeoutException or EndOfStreamException => true,
        IOException => true,
        _ => false,
    };

    public static RpcException From(Exception inner) => new(new Status(StatusCode.Unavailable, Detail, inner));
}
