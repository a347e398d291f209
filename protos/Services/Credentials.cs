using Grpc.Core;

namespace AdHocMirror.Contracts;

/// <summary>How keys, sessions and refusals travel as metadata (see registry.proto and sessions.proto).</summary>
public static class Credentials
{
    public const string SessionHeader = "ahm-session";
    public const string RefusalTrailer = "ahm-refusal";

    /// <summary>Request metadata presenting a mirror key, and optionally its session.</summary>
    public static Metadata ForKey(string keyId, string secret, string? sessionId = null)
    {
        var metadata = new Metadata { { "authorization", $"Bearer {keyId}.{secret}" } };
        if (sessionId is not null)
        {
            metadata.Add(SessionHeader, sessionId);
        }

        return metadata;
    }

    public static Metadata ForAdmin(string token) => new() { { "authorization", $"Bearer {token}" } };

    /// <summary>Splits a presented key credential into id and secret.</summary>
    public static bool TryParseKey(string? bearer, out string keyId, out string secret)
    {
        keyId = secret = string.Empty;
        if (string.IsNullOrEmpty(bearer))
        {
            return false;
        }

        var dot = bearer.IndexOf('.', StringComparison.Ordinal);
        if (dot <= 0 || dot == bearer.Length - 1)
        {
            return false;
        }

        keyId = bearer[..dot];
        secret = bearer[(dot + 1)..];
        return true;
    }

    /// <summary>The refusal cause a coordinator attached to an error, if any.</summary>
    public static V1.RefusalCause RefusalOf(RpcException e) =>
        Enum.TryParse<V1.RefusalCause>(e.Trailers.GetValue(RefusalTrailer), ignoreCase: true, out var cause) ? cause : V1.RefusalCause.Unspecified;

    public static RpcException Refuse(StatusCode code, V1.RefusalCause cause, string message) =>
        new(new Status(code, message), new Metadata { { RefusalTrailer, cause.ToString() } });
}
