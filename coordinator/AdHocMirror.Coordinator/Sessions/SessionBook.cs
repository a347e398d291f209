using System.Net;
using AdHocMirror.Contracts.V1;
using AdHocMirror.Coordinator.Keys;
using AdHocMirror.Coordinator.Liveness;
using AdHocMirror.Coordinator.Mirrors;
using AdHocMirror.Coordinator.Observability;
using AdHocMirror.Coordinator.Storage;
using Google.Protobuf;
using Grpc.Core;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Logging;

namespace AdHocMirror.Coordinator.Sessions;

/// <summary>
/// Opens, supersedes and ends the one session of each key. A session is committed to the store before
/// the login is answered, so a restarted coordinator resumes pinging the mirrors it knew.
/// </summary>
public sealed partial class SessionBook(
    ICoordinatorStore store,
    MirrorDirectory directory,
    MirrorQuarantine quarantine,
    KeyRegistry keys,
    PingScheduler pings,
    IMirrorLocator locator,
    SessionOptions options,
    KeyOptions keyOptions,
    PingOptions pingOptions,
    Refusals refusals,
    CoordinatorMetrics metrics,
    TimeProvider clock,
    ILogger<SessionBook> logger)
{
    public async Task<LoginReply> LoginAsync(MirrorKey key, LoginRequest request, IPAddress? peer, CancellationToken cancellationToken)
    {
        LoginValidation.Check(request, peer, options.PingAddressPolicy, clock.GetUtcNow());
        if (peer is not null && directory.CountFrom(peer, key.KeyId) >= keyOptions.MaxMirrorsPerAddress)
        {
            throw refusals.RateLimited($"too many live mirrors from one address (limit {keyOptions.MaxMirrorsPerAddress})");
        }

        var sessionId = KeyMaterial.NewId();
        var secret = KeyMaterial.NewSecret();
        // Placed where it is pinged (and where users will connect), which the first good ping proves;
        // the caller's address only when the ping address is a host name.
        var placedBy = PingHostAddress(request.Endpoints.PingAddress) ?? peer;
        var location = placedBy is null ? null : locator.Locate(placedBy);
        var now = clock.GetUtcNow();
        await store.SaveSessionAsync(
            new SessionRecord(key.KeyId, sessionId, secret, request.ToByteArray(), now, location?.Point.Latitude, location?.Point.Longitude, location?.Place ?? string.Empty),
            cancellationToken);
        directory.Open(new OpenSession(
            key.KeyId, sessionId, Convert.FromHexString(secret), request.Endpoints, request.Versions, request.Limits, peer, location, now, quarantine.IsQuarantined(key.KeyId), request.ServeTo));
        pings.PingSoon(key.KeyId, sessionId);
        metrics.Logins.Inc();
        LogLogin(logger, key.KeyId, SourceNetwork.Describe(peer));
        var reply = new LoginReply
        {
            SessionId = sessionId,
            SessionSecret = secret,
            PingInterval = Duration.FromTimeSpan(pingOptions.Interval),
            KeyExpiresAt = Timestamp.FromDateTimeOffset(key.ExpiresAt),
        };
        if (location is not null)
        {
            reply.Location = location.Point.Clone();
        }

        return reply;
    }

    public void ReportVersion(MirrorKey key, string sessionId, ReportVersionRequest request)
    {
        var mirror = directory.Find(key.KeyId);
        if (mirror is null || mirror.SessionId != sessionId)
        {
            throw refusals.SessionSuperseded();
        }

        LoginValidation.CheckVersions(request.Versions, clock.GetUtcNow(), mirror.Endpoints);
        if (!directory.ReportVersions(key.KeyId, sessionId, request.Versions))
        {
            throw refusals.SessionSuperseded();
        }
    }

    public async Task LogoutAsync(MirrorKey key, string sessionId, CancellationToken cancellationToken)
    {
        if (!directory.Remove(key.KeyId, sessionId))
        {
            throw refusals.SessionSuperseded();
        }

        await store.DeleteSessionAsync(key.KeyId, sessionId, cancellationToken);
        metrics.Logouts.Inc();
        LogLogout(logger, key.KeyId);
    }

    /// <summary>Reopens the sessions of live keys after a restart, their first pings spread over one interval.</summary>
    public async Task RestoreAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        foreach (var session in await store.LoadSessionsAsync(cancellationToken))
        {
            var key = keys.Find(session.KeyId);
            if (key is null || key.Status != KeyStatus.Live || key.ExpiresAt <= now)
            {
                await store.DeleteSessionAsync(session.KeyId, null, cancellationToken);
                continue;
            }

            if (ReadStored(session) is not { } login)
            {
                await store.DeleteSessionAsync(session.KeyId, session.SessionId, cancellationToken);
                continue; // the daemon's next call finds no session and logs in again, with what it has now
            }

            OpenStored(session, login);
            pings.PingWithin(session.KeyId, session.SessionId, pingOptions.Interval);
        }
    }

    /// <summary>
    /// Follows a session another coordinator opened, ended or pinged (several coordinators on one
    /// database): a new session id opens it here too, a missing row ends it, and the live state its
    /// pinging coordinator published (not this one's own) is applied.
    /// </summary>
    public void ApplyShared(string keyId, SharedSession? shared, string selfId)
    {
        var current = directory.Find(keyId);
        if (shared is null)
        {
            if (current is not null)
            {
                directory.Remove(keyId);
            }

            return;
        }

        var session = shared.Session;
        if (current is null || current.SessionId != session.SessionId)
        {
            if (keys.Find(keyId) is not { Status: KeyStatus.Live })
            {
                return; // the key's own change follows, or came first and ended it
            }

            if (ReadStored(session) is not { } login)
            {
                return; // the coordinator that restores it drops the row; nothing invalid is offered meanwhile
            }

            OpenStored(session, login);
            pings.PingSoon(keyId, session.SessionId);
        }

        if (shared.State != 0 && shared.PingedBy is { } by && by != selfId)
        {
            var versions = shared.Versions is { } bytes ? ReportVersionRequest.Parser.ParseFrom(bytes).Versions : null;
            directory.ApplyShared(keyId, session.SessionId, (MirrorState)shared.State, versions, shared.ActiveConnections, shared.LastPingAt, shared.LastPingMs);
        }
    }

    /// <summary>The keys of open sessions not in <paramref name="present"/> (a resync ends them).</summary>
    public IReadOnlyList<string> KeysNotIn(IReadOnlySet<string> present) =>
        directory.List().Where(m => !present.Contains(m.KeyId)).Select(m => m.KeyId).ToList();

    /// <summary>The stored login, checked by today's rules; null (and a warning) when it fails them.</summary>
    private LoginRequest? ReadStored(SessionRecord session)
    {
        try
        {
            var login = LoginRequest.Parser.ParseFrom(session.Login);
            LoginValidation.CheckStored(login, clock.GetUtcNow());
            _ = Convert.FromHexString(session.SessionSecret);
            return login;
        }
        catch (Exception e) when (e is InvalidProtocolBufferException or RpcException or FormatException)
        {
            LogStoredRefused(logger, session.KeyId, e is RpcException rpc ? rpc.Status.Detail : "unreadable row");
            return null;
        }
    }

    private void OpenStored(SessionRecord session, LoginRequest login)
    {
        var location = session.Latitude is { } lat && session.Longitude is { } lon
            ? new MirrorLocation(new GeoPoint { Latitude = lat, Longitude = lon }, session.Place, Geo.GeoPlace.CountryInName(session.Place), Geo.Continents.Of(Geo.GeoPlace.CountryInName(session.Place)))
            : null;
        directory.Open(new OpenSession(
            session.KeyId, session.SessionId, Convert.FromHexString(session.SessionSecret), login.Endpoints, login.Versions, login.Limits,
            null, location, session.LoggedInAt, quarantine.IsQuarantined(session.KeyId), login.ServeTo));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Mirror {KeyId} logged in from {Network}")]
    private static partial void LogLogin(ILogger logger, string keyId, string network);

    private static IPAddress? PingHostAddress(string pingAddress)
    {
        var colon = pingAddress.LastIndexOf(':');
        var host = colon > 0 ? pingAddress[..colon] : pingAddress;
        host = host.StartsWith('[') && host.EndsWith(']') ? host[1..^1] : host;
        return IPAddress.TryParse(host, out var address) ? address : null;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stored session of mirror {KeyId} dropped: {Reason}")]
    private static partial void LogStoredRefused(ILogger logger, string keyId, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Mirror {KeyId} logged out")]
    private static partial void LogLogout(ILogger logger, string keyId);
}
