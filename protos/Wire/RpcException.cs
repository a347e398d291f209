namespace AdHocMirror.Wire;

/// <summary>
/// A call that ended with a non-OK status. Services throw it to answer with a status;
/// clients receive it when the server (or the transport) ended the call with one.
/// </summary>
public sealed class RpcException : Exception
{
    public RpcException(StatusCode code, string detail, Metadata? trailers = null, Exception? inner = null)
        : base($"Status({code}, \"{detail}\")", inner)
    {
        Code = code;
        Detail = detail;
        Trailers = trailers ?? new Metadata();
    }

    public StatusCode Code { get; }

    public string Detail { get; }

    /// <summary>Trailing metadata: what the server added beside the status (e.g. <c>ahm-refusal</c>).</summary>
    public Metadata Trailers { get; }
}
