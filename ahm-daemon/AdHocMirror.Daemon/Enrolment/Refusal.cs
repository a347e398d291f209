using AdHocMirror.Contracts;
using AdHocMirror.Contracts.V1;
using Grpc.Core;

namespace AdHocMirror.Daemon.Enrolment;

/// <summary>What the daemon does about an error from the coordinator.</summary>
public enum RefusalKind
{
    /// <summary>Coordinator away, timed out or failing: retry with backoff.</summary>
    Transient,
    /// <summary>The key is unknown, expired, revoked or corrupt: drop it and register a new one.</summary>
    KeyRefused,
    /// <summary>The key or our network is blacklisted: stop serving and say why (re-registering would only be refused again).</summary>
    Banned,
    /// <summary>Our session is not the key's live one (superseded, logged out, forgotten): log in again.</summary>
    SessionLost,
    /// <summary>Too many registrations or mirrors from our network: retry later.</summary>
    RateLimited,
    /// <summary>The coordinator says our request is wrong (e.g. the advertised address): retry slowly; the operator must act.</summary>
    Rejected,
}

public static class Refusal
{
    public static RefusalKind Classify(RpcException e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return Credentials.RefusalOf(e) switch
        {
            RefusalCause.Blacklisted or RefusalCause.NetworkBlacklisted => RefusalKind.Banned,
            RefusalCause.UnknownKey or RefusalCause.Expired or RefusalCause.Revoked or RefusalCause.Corrupt => RefusalKind.KeyRefused,
            RefusalCause.SessionSuperseded => RefusalKind.SessionLost,
            RefusalCause.RateLimited => RefusalKind.RateLimited,
            RefusalCause.Quarantined => RefusalKind.Rejected,
            _ => e.StatusCode switch
            {
                StatusCode.Unauthenticated => RefusalKind.KeyRefused,
                StatusCode.ResourceExhausted => RefusalKind.RateLimited,
                StatusCode.InvalidArgument or StatusCode.PermissionDenied or StatusCode.Unimplemented => RefusalKind.Rejected,
                _ => RefusalKind.Transient,
            },
        };
    }
}

/// <summary>The coordinator blacklisted this mirror's key or network: serving stops and the daemon exits saying why.</summary>
public sealed class MirrorBannedException(string message, Exception? inner = null) : Exception(message, inner);
