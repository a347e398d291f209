using AdHocMirror.Contracts.V1;
using AdHocMirror.Wire;
using Grpc.Health.V1;

namespace AdHocMirror.Contracts;

/// <summary>Typed clients over a shared <see cref="GrpcChannel"/>: one method per RPC.</summary>
public sealed class RegistryClient(GrpcChannel channel)
{
    public Task<RegisterReply> RegisterAsync(RegisterRequest request, CallOptions options = default) => channel.UnaryAsync(RegistryMethods.Register, request, options);

    public Task<RegisterReply> RotateKeyAsync(RotateKeyRequest request, CallOptions options = default) => channel.UnaryAsync(RegistryMethods.RotateKey, request, options);

    public Task<RetireKeyReply> RetireKeyAsync(RetireKeyRequest request, CallOptions options = default) => channel.UnaryAsync(RegistryMethods.RetireKey, request, options);
}

public sealed class SessionsClient(GrpcChannel channel)
{
    public Task<LoginReply> LoginAsync(LoginRequest request, CallOptions options = default) => channel.UnaryAsync(SessionsMethods.Login, request, options);

    public Task<ReportVersionReply> ReportVersionAsync(ReportVersionRequest request, CallOptions options = default) => channel.UnaryAsync(SessionsMethods.ReportVersion, request, options);

    public Task<LogoutReply> LogoutAsync(LogoutRequest request, CallOptions options = default) => channel.UnaryAsync(SessionsMethods.Logout, request, options);
}

public sealed class MirrorPingClient(GrpcChannel channel)
{
    public Task<PingReply> PingAsync(PingRequest request, CallOptions options = default) => channel.UnaryAsync(MirrorPingMethods.Ping, request, options);
}

public sealed class MatchingClient(GrpcChannel channel)
{
    public Task<FindMirrorReply> FindMirrorAsync(FindMirrorRequest request, CallOptions options = default) => channel.UnaryAsync(MatchingMethods.FindMirror, request, options);

    public Task<ReportSyncReply> ReportSyncAsync(ReportSyncRequest request, CallOptions options = default) => channel.UnaryAsync(MatchingMethods.ReportSync, request, options);
}

public sealed class AdminClient(GrpcChannel channel, string token)
{
    private CallOptions Auth(CallOptions options) => options with { Headers = Credentials.ForAdmin(token) };

    public Task<ListMirrorsReply> ListMirrorsAsync(ListMirrorsRequest request, CallOptions options = default) => channel.UnaryAsync(AdminMethods.ListMirrors, request, Auth(options));

    public Task<ListKeysReply> ListKeysAsync(ListKeysRequest request, CallOptions options = default) => channel.UnaryAsync(AdminMethods.ListKeys, request, Auth(options));

    public Task<AdminActionReply> RevokeKeyAsync(RevokeKeyRequest request, CallOptions options = default) => channel.UnaryAsync(AdminMethods.RevokeKey, request, Auth(options));

    public Task<AdminActionReply> BlacklistKeyAsync(BlacklistKeyRequest request, CallOptions options = default) => channel.UnaryAsync(AdminMethods.BlacklistKey, request, Auth(options));

    public Task<AdminActionReply> UnblacklistKeyAsync(UnblacklistKeyRequest request, CallOptions options = default) => channel.UnaryAsync(AdminMethods.UnblacklistKey, request, Auth(options));

    public Task<AdminActionReply> BlacklistNetworkAsync(BlacklistNetworkRequest request, CallOptions options = default) => channel.UnaryAsync(AdminMethods.BlacklistNetwork, request, Auth(options));

    public Task<AdminActionReply> UnblacklistNetworkAsync(UnblacklistNetworkRequest request, CallOptions options = default) => channel.UnaryAsync(AdminMethods.UnblacklistNetwork, request, Auth(options));

    public Task<ListBlacklistReply> ListBlacklistAsync(ListBlacklistRequest request, CallOptions options = default) => channel.UnaryAsync(AdminMethods.ListBlacklist, request, Auth(options));

    public Task<ListQuarantineReply> ListQuarantineAsync(ListQuarantineRequest request, CallOptions options = default) => channel.UnaryAsync(AdminMethods.ListQuarantine, request, Auth(options));

    public Task<AdminActionReply> ReleaseQuarantineAsync(ReleaseQuarantineRequest request, CallOptions options = default) => channel.UnaryAsync(AdminMethods.ReleaseQuarantine, request, Auth(options));

    public Task<GetStatsReply> GetStatsAsync(GetStatsRequest request, CallOptions options = default) => channel.UnaryAsync(AdminMethods.GetStats, request, Auth(options));

    public Task<ListAuditReply> ListAuditAsync(ListAuditRequest request, CallOptions options = default) => channel.UnaryAsync(AdminMethods.ListAudit, request, Auth(options));

    public IAsyncEnumerable<AuditEntry> WatchAudit(WatchAuditRequest request, CallOptions options = default) => channel.ServerStreamingAsync(AdminMethods.WatchAudit, request, Auth(options));
}

public sealed class HealthClient(GrpcChannel channel)
{
    public Task<HealthCheckResponse> CheckAsync(HealthCheckRequest request, CallOptions options = default) => channel.UnaryAsync(HealthMethods.Check, request, options);

    public IAsyncEnumerable<HealthCheckResponse> Watch(HealthCheckRequest request, CallOptions options = default) => channel.ServerStreamingAsync(HealthMethods.Watch, request, options);
}
