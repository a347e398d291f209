using AdHocMirror.Contracts;
using AdHocMirror.Contracts.V1;
using AdHocMirror.Daemon.Serving;
using AdHocMirror.Hosting;
using AdHocMirror.Daemon.Status;
using Grpc.Core;
using Microsoft.Extensions.Logging;

using MirrorState = AdHocMirror.Daemon.Status.MirrorState;

namespace AdHocMirror.Daemon.Ping;

/// <summary>
/// ahm.v1.MirrorPing on the daemon's own listener: proves we hold the session (HMAC over the nonce and session id,
/// see <see cref="PingProof"/>), and reports the served versions and active connections.
/// </summary>
public sealed partial class MirrorPingService(MirrorState state, ServingSupervisor serving, TimeProvider clock, ILogger<MirrorPingService> logger) : MirrorPing.MirrorPingBase
{
    public const int NonceLength = 32;

    /// <summary>Longest a ping waits for the login in flight that will open its session.</summary>
    public static readonly TimeSpan LoginWait = TimeSpan.FromSeconds(3);

    // The ping listener is open to anyone: a stranger's pings must not be able to fill the log.
    private readonly LogThrottle _wrongSessionLog = new(clock);

    public override async Task<PingReply> Ping(PingRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var session = await state.SessionForAsync(request.SessionId, LoginWait, context.CancellationToken);
        if (session is null)
        {
            throw new RpcException(new Grpc.Core.Status(StatusCode.FailedPrecondition, "not logged in"));
        }

        if (request.SessionId != session.Id)
        {
            if (_wrongSessionLog.TryLog(out var dropped))
            {
                LogWrongSession(logger, dropped);
            }

            throw new RpcException(new Grpc.Core.Status(StatusCode.FailedPrecondition, "not this mirror's session"));
        }

        // A short or absent nonce would let a recorded answer be replayed.
        if (request.Nonce.Length < 16 || request.Nonce.Length > 64)
        {
            throw new RpcException(new Grpc.Core.Status(StatusCode.InvalidArgument, $"nonce must be 16 to 64 bytes (expected {NonceLength})"));
        }

        var connections = serving.ActiveConnections();
        var reply = new PingReply
        {
            Proof = Google.Protobuf.ByteString.CopyFrom(PingProof.Compute(session.Secret, request.Nonce.Span, session.Id)),
            ActiveConnections = (uint)connections,
        };
        reply.Versions.AddRange(state.ContractVersions());
        state.Update(s => s with { ActiveConnections = connections });
        state.RecordPing();
        return reply;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ping for a session that is not ours; ignoring ({Dropped} more not logged)")]
    private static partial void LogWrongSession(ILogger logger, long dropped);
}
