using AdHocMirror.Contracts;
using AdHocMirror.Contracts.V1;
using AdHocMirror.Coordinator.Observability;
using Grpc.Core;

namespace AdHocMirror.Coordinator.Keys;

/// <summary>The refusals of registry.proto: a status the daemon can act on, a message for people, and the <c>ahm-refusal</c> trailer.</summary>
public sealed class Refusals(CoordinatorMetrics metrics)
{
    public RpcException UnknownKey(string message) => Refuse(StatusCode.Unauthenticated, RefusalCause.UnknownKey, message);

    public RpcException Expired(DateTimeOffset at) => Refuse(StatusCode.Unauthenticated, RefusalCause.Expired, $"key expired at {At(at)}; register a new one");

    public RpcException Revoked(string reason) => Refuse(StatusCode.PermissionDenied, RefusalCause.Revoked, $"key was revoked: {reason}");

    public RpcException Blacklisted(string reason, DateTimeOffset? until) =>
        Refuse(StatusCode.PermissionDenied, RefusalCause.Blacklisted, $"key is blacklisted {Until(until)}: {reason}");

    public RpcException NetworkBlacklisted(string prefix, string reason, DateTimeOffset? until) =>
        Refuse(StatusCode.PermissionDenied, RefusalCause.NetworkBlacklisted, $"network {prefix} is blacklisted {Until(until)}: {reason}");

    public RpcException RateLimited(string message) => Refuse(StatusCode.ResourceExhausted, RefusalCause.RateLimited, message);

    public RpcException SessionSuperseded() =>
        Refuse(StatusCode.FailedPrecondition, RefusalCause.SessionSuperseded, "this is not the key's live session (superseded by a newer login, logged out, or never opened); log in again");

    private RpcException Refuse(StatusCode code, RefusalCause cause, string message)
    {
        metrics.Refusals.Inc(cause.ToString());
        return Credentials.Refuse(code, cause, message);
    }

    private static string Until(DateTimeOffset? until) => until is { } u ? $"until {At(u)}" : "until further notice";

    private static string At(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
}
