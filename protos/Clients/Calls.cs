using Grpc.Core;

namespace AdHocMirror.Clients;

/// <summary>Per-call options: every call this project makes carries a deadline, so a silent server cannot hang it.</summary>
public static class Calls
{
    public static CallOptions WithTimeout(TimeSpan timeout, Metadata? headers = null, CancellationToken cancellationToken = default) =>
        new(headers, DateTime.UtcNow + timeout, cancellationToken);
}
