using AdHocMirror.Contracts.V1;
using AdHocMirror.Wire;
using Grpc.Health.V1;

namespace AdHocMirror.Contracts;

/// <summary>The RPCs of ahm.v1 as wire methods; the single place their paths are spelled.</summary>
public static class RegistryMethods
{
    public const string Service = "ahm.v1.Registry";
    public static readonly Method<RegisterRequest, RegisterReply> Register = Method.Unary<RegisterRequest, RegisterReply>(Service, "Register");
    public static readonly Method<RotateKeyRequest, RegisterReply> RotateKey = Method.Unary<RotateKeyRequest, RegisterReply>(Service, "RotateKey");
    public static readonly Method<RetireKeyRequest, RetireKeyReply> RetireKey = Method.Unary<RetireKeyRequest, RetireKeyReply>(Service, "RetireKey");
}

public static class SessionsMethods
{
    public const string Service = "ahm.v1.Sessions";
    public static readonly Method<LoginRequest, LoginReply> Login = Method.Unary<LoginRequest, LoginReply>(Service, "Login");
    public static readonly Method<ReportVersionRequest, ReportVersionReply> ReportVersion = Method.Unary<ReportVersionRequest, ReportVersionReply>(Service, "ReportVersion");
    public static readonly Method<LogoutRequest, LogoutReply> Logout = Method.Unary<LogoutRequest, LogoutReply>(Service, "Logout");
}

public static class MirrorPingMethods
{
    public const string Service = "ahm.v1.MirrorPing";
    public static readonly Method<PingRequest, PingReply> Ping = Method.Unary<PingRequest, PingReply>(Service, "Ping");
}

public static class MatchingMethods
{
    public const string Service = "ahm.v1.Matching";
    public static readonly Method<FindMirrorRequest, FindMirrorReply> FindMirror = Method.Unary<FindMirrorRequest, FindMirrorReply>(Service, "FindMirror");
    public static readonly Method<ReportSyncRequest, ReportSyncReply> ReportSync = Method.Unary<ReportSyncRequest, ReportSyncReply>(Service, "ReportSync");
}

public static class AdminMethods
{
    public const string Service = "ahm.v1.Admin";
    public static readonly Method<ListMirrorsRequest, ListMirrorsReply> ListMirrors = Method.Unary<ListMirrorsRequest, ListMirrorsReply>(Service, "ListMirrors");
    public static readonly Method<ListKeysRequest, ListKeysReply> ListKeys = Method.Unary<ListKeysRequest, ListKeysReply>(Service, "ListKeys");
    public static readonly Method<RevokeKeyRequest, AdminActionReply> RevokeKey = Method.Unary<RevokeKeyRequest, AdminActionReply>(Service, "RevokeKey");
    public static readonly Method<BlacklistKeyRequest, AdminActionReply> BlacklistKey = Method.Unary<BlacklistKeyRequest, AdminActionReply>(Service, "BlacklistKey");
    public static readonly Method<UnblacklistKeyRequest, AdminActionReply> UnblacklistKey = Method.Unary<UnblacklistKeyRequest, AdminActionReply>(Service, "UnblacklistKey");
    public static readonly Method<BlacklistNetworkRequest, AdminActionReply> BlacklistNetwork = Method.Unary<BlacklistNetworkRequest, AdminActionReply>(Service, "BlacklistNetwork");
    public static readonly Method<UnblacklistNetworkRequest, AdminActionReply> UnblacklistNetwork = Method.Unary<UnblacklistNetworkRequest, AdminActionReply>(Service, "UnblacklistNetwork");
    public static readonly Method<ListBlacklistRequest, ListBlacklistReply> ListBlacklist = Method.Unary<ListBlacklistRequest, ListBlacklistReply>(Service, "ListBlacklist");
    public static readonly Method<ListQuarantineRequest, ListQuarantineReply> ListQuarantine = Method.Unary<ListQuarantineRequest, ListQuarantineReply>(Service, "ListQuarantine");
    public static readonly Method<ReleaseQuarantineRequest, AdminActionReply> ReleaseQuarantine = Method.Unary<ReleaseQuarantineRequest, AdminActionReply>(Service, "ReleaseQuarantine");
    public static readonly Method<GetStatsRequest, GetStatsReply> GetStats = Method.Unary<GetStatsRequest, GetStatsReply>(Service, "GetStats");
    public static readonly Method<ListAuditRequest, ListAuditReply> ListAudit = Method.Unary<ListAuditRequest, ListAuditReply>(Service, "ListAudit");
    public static readonly Method<WatchAuditRequest, AuditEntry> WatchAudit = Method.ServerStreaming<WatchAuditRequest, AuditEntry>(Service, "WatchAudit");
}

public static class HealthMethods
{
    public const string Service = "grpc.health.v1.Health";
    public static readonly Method<HealthCheckRequest, HealthCheckResponse> Check = Method.Unary<HealthCheckRequest, HealthCheckResponse>(Service, "Check");
    public static readonly Method<HealthCheckRequest, HealthCheckResponse> Watch = Method.ServerStreaming<HealthCheckRequest, HealthCheckResponse>(Service, "Watch");
}
