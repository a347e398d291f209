using System.Net;

namespace AdHocMirror.Wire;

/// <summary>What a service sees of the call it is answering; nothing of HTTP.</summary>
public sealed class CallContext
{
    public CallContext(string method, Metadata requestHeaders, IPAddress? peer, DateTimeOffset? deadline, CancellationToken cancellationToken)
    {
        Method = method;
        RequestHeaders = requestHeaders;
        Peer = peer;
        Deadline = deadline;
        CancellationToken = cancellationToken;
    }

    /// <summary>The full method path, e.g. <c>/ahm.v1.Matching/FindMirror</c>.</summary>
    public string Method { get; }

    public Metadata RequestHeaders { get; }

    /// <summary>The caller's address (IPv4-mapped addresses unmapped), or null when unknown.</summary>
    public IPAddress? Peer { get; }

    public DateTimeOffset? Deadline { get; }

    /// <summary>Fires when the caller cancels, the deadline passes or the server stops.</summary>
    public CancellationToken CancellationToken { get; }

    /// <summary>Metadata sent with the status, whatever the outcome.</summary>
    public Metadata ResponseTrailers { get; } = new();

    /// <summary>The bearer credential of the <c>authorization</c> header, or null.</summary>
    public string? BearerToken
    {
        get
        {
            var value = RequestHeaders.Get("authorization");
            const string prefix = "Bearer ";
            return value is not null && value.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)
                ? value[prefix.Length..].Trim()
                : null;
        }
    }
}

/// <summary>Where a server-streaming service writes its messages.</summary>
public interface IServerStreamWriter<in T>
{
    Task WriteAsync(T message, CancellationToken cancellationToken = default);
}
