namespace AdHocMirror.Hosting;

/// <summary>
/// What one caller may cost a server. Each is chosen for the calls this project makes (small unary messages, a few
/// long-lived streams for staff) rather than left at a library default; README.md lists them with their reasons.
/// </summary>
public sealed record GrpcServerLimits
{
    /// <summary>Largest request message; a larger one is RESOURCE_EXHAUSTED before it is buffered.</summary>
    public int MaxReceiveMessageSize { get; init; } = 1024 * 1024;

    /// <summary>Largest reply message; a handler producing a larger one fails with RESOURCE_EXHAUSTED.</summary>
    public int MaxSendMessageSize { get; init; } = 4 * 1024 * 1024;

    /// <summary>Calls one HTTP/2 connection may have open at once (RFC 9113 SETTINGS_MAX_CONCURRENT_STREAMS).</summary>
    public int MaxStreamsPerConnection { get; init; } = 100;

    /// <summary>Open connections the listener accepts; more wait in the kernel's backlog.</summary>
    public long MaxConnections { get; init; } = 4096;

    /// <summary>All request headers of one call together (metadata included); gRPC's own default is 8 KiB.</summary>
    public int MaxRequestHeadersTotalSize { get; init; } = 16 * 1024;

    /// <summary>Time a client has to send a call's headers.</summary>
    public TimeSpan RequestHeadersTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Longest a unary call may take, body included: then its stream is reset, so a call that opens a stream and never
    /// sends its message cannot hold memory and a stream slot for ever. Real calls take milliseconds; the margin is for
    /// a machine starved of CPU under a burst. Kestrel's own body-rate check is off: on HTTP/2 it judges a connection's
    /// reads as a whole, reset healthy calls of a 1,000-call burst on a loaded machine, and left some stalled ones
    /// open. Streaming calls (Health/Watch, WatchAudit, reflection) are not bounded.
    /// </summary>
    public TimeSpan MaxUnaryCallDuration { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// A connection that sent nothing for this long is pinged, and closed when the ping is not answered in
    /// <see cref="KeepAlivePingTimeout"/>. Short, because on a loaded machine Kestrel sometimes left the reset of a
    /// call ended by <see cref="MaxUnaryCallDuration"/> unseen by the client until the next frame on its connection:
    /// with a 60 s delay 3 of 4 runs of 200 bodiless calls beside stress-ng had calls open for 94 s, with 15 s none.
    /// </summary>
    public TimeSpan KeepAlivePingDelay { get; init; } = TimeSpan.FromSeconds(15);

    public TimeSpan KeepAlivePingTimeout { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>A connection with no open call is closed after this long.</summary>
    public TimeSpan IdleConnectionTimeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Listeners that only answer pings: tiny messages, few callers (the coordinators).</summary>
    public static GrpcServerLimits PingListener { get; } = new()
    {
        MaxReceiveMessageSize = 64 * 1024,
        MaxSendMessageSize = 64 * 1024,
        MaxStreamsPerConnection = 16,
        MaxConnections = 256,
    };
}
