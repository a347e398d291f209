using AdHocMirror.Contracts;
using AdHocMirror.Contracts.V1;
using AdHocMirror.Coordinator.Keys;
using AdHocMirror.Wire;

namespace AdHocMirror.Coordinator.Sessions;

/// <summary>The Sessions gRPC service: every call authenticated by key; ReportVersion and Logout also by the live session id.</summary>
public sealed class SessionsService(KeyRegistry keys, SessionBook sessions)
{
    public ServiceBinding Bind() => new ServiceBinding(SessionsMethods.Service)
        .Unary(SessionsMethods.Login, LoginAsync)
        .Unary(SessionsMethods.ReportVersion, ReportVersionAsync)
        .Unary(SessionsMethods.Logout, LogoutAsync);

    public Task<LoginReply> LoginAsync(LoginRequest request, CallContext context) =>
        sessions.LoginAsync(keys.Authenticate(context), request, context.Peer, context.CancellationToken);

    public Task<ReportVersionReply> ReportVersionAsync(ReportVersionRequest request, CallContext context)
    {
        var key = keys.Authenticate(context);
        sessions.ReportVersion(key, SessionOf(context), request);
        return Task.FromResult(new ReportVersionReply());
    }

    public async Task<LogoutReply> LogoutAsync(LogoutRequest request, CallContext context)
    {
        var key = keys.Authenticate(context);
        await sessions.LogoutAsync(key, SessionOf(context), context.CancellationToken);
        return new LogoutReply();
    }

    private static string SessionOf(CallContext context)
    {
        var session = context.RequestHeaders.Get(Credentials.SessionHeader);
        if (string.IsNullOrEmpty(session))
        {
            throw new RpcException(StatusCode.InvalidArgument, $"missing '{Credentials.SessionHeader}' metadata: send the session id from Login");
        }

        return session;
    }
}
