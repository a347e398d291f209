using AdHocMirror.Contracts;
using AdHocMirror.Contracts.V1;
using AdHocMirror.Coordinator.Keys;
using AdHocMirror.Hosting;
using Grpc.Core;

namespace AdHocMirror.Coordinator.Sessions;

/// <summary>ahm.v1.Sessions at the edge: every call by key (checked by <see cref="MirrorKeyInterceptor"/>); ReportVersion and Logout also by the live session id.</summary>
public sealed class SessionsService(SessionBook sessions) : Contracts.V1.Sessions.SessionsBase
{
    [MirrorKey]
    public override Task<LoginReply> Login(LoginRequest request, ServerCallContext context) =>
        sessions.LoginAsync(context.MirrorKey(), request, context.PeerAddress(), context.CancellationToken);

    [MirrorKey]
    public override Task<ReportVersionReply> ReportVersion(ReportVersionRequest request, ServerCallContext context)
    {
        sessions.ReportVersion(context.MirrorKey(), SessionOf(context), request);
        return Task.FromResult(new ReportVersionReply());
    }

    [MirrorKey]
    public override async Task<LogoutReply> Logout(LogoutRequest request, ServerCallContext context)
    {
        await sessions.LogoutAsync(context.MirrorKey(), SessionOf(context), context.CancellationToken);
        return new LogoutReply();
    }

    private static string SessionOf(ServerCallContext context)
    {
        var session = context.Header(Credentials.SessionHeader);
        if (string.IsNullOrEmpty(session))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"missing '{Credentials.SessionHeader}' metadata: send the session id from Login"));
        }

        return session;
    }
}
