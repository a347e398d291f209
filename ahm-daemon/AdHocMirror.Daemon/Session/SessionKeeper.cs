using AdHocMirror.Contracts.V1;
using AdHocMirror.Daemon.Configuration;
using AdHocMirror.Daemon.Enrolment;
using AdHocMirror.Daemon.Hosting;
using AdHocMirror.Daemon.Status;
using AdHocMirror.Hosting;
using Grpc.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

using MirrorState = AdHocMirror.Daemon.Status.MirrorState;

namespace AdHocMirror.Daemon.Session;

/// <summary>
/// The session with the coordinator: logs in once a verified snapshot is served, reports each new version, rotates
/// the key when due, notices a lost session (no pings, refusals) and logs in again; when the coordinator is away it
/// retries with exponential backoff and jitter. Logs out on shutdown. A blacklisting stops the daemon.
/// A session outlives the coordinator it was opened at: with several coordinators on one database it is shared, so a
/// call that finds no coordinator is sent again with the same session (the channel moves on to another coordinator),
/// and only a coordinator saying the session is unknown makes the daemon log in again.
/// </summary>
public sealed partial class SessionKeeper(
    DaemonOptions options,
    KeyEnrolment enrolment,
    CoordinatorConnection coordinator,
    MirrorState state,
    DaemonExit exit,
    TimeProvider clock,
    ILogger<SessionKeeper> logger) : BackgroundService
{
    private readonly Backoff _backoff = new(options.MinBackoff, options.MaxBackoff);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        state.Update(s => s with { Coordinator = options.Coordinators.ToString(), Session = "waiting for a verified snapshot" });
        try
        {
            while (state.ContractVersions().Count == 0)
            {
                await state.VersionsChanged.WaitAsync(stoppingToken);
            }

            while (!stoppingToken.IsCancellationRequested)
            {
                TimeSpan? wait = null;
                StoredKey? key = null;
                try
                {
                    key = await enrolment.RotateIfDueAsync(stoppingToken);
                    var session = await LoginAsync(key, stoppingToken);
                    _backoff.Reset();
                    await KeepAsync(session, stoppingToken);
                }
                catch (MirrorBannedException e)
                {
                    Banned(e.Message);
                    return;
                }
                catch (RpcException e) when (!stoppingToken.IsCancellationRequested)
                {
                    switch (Refusal.Classify(e))
                    {
                        case RefusalKind.Banned:
                            Banned(e.Status.Detail);
                            return;
                        case RefusalKind.KeyRefused:
                            if ((key ?? enrolment.Current) is { } refused)
                            {
                                enrolment.Drop(refused, e.Status.Detail);
                            }

                            state.SetSession(null);
                            wait = options.MinBackoff;
                            break;
                        case RefusalKind.SessionLost:
                            Log.SessionLost(logger, e.Status.Detail);
                            state.SetSession(null);
                            // The first time at once; if it keeps happening, back off like any failure.
                            wait = _backoff.Failures == 0 ? TimeSpan.Zero : _backoff.Next();
                            if (wait == TimeSpan.Zero)
                            {
                                _ = _backoff.Next();
                            }

                            break;
                        default:
                            wait = _backoff.Next();
                            Log.Unreachable(logger, e.StatusCode.ToString(), e.Status.Detail, wait.Value);
                            state.Update(s => s with { Session = "unreachable", SessionDetail = e is RpcException x ? x.Status.Detail : e.Message });
                            break;
                    }
                }
                catch (Exception e) when (e is HttpRequestException or IOException or TimeoutException && !stoppingToken.IsCancellationRequested)
                {
                    wait = _backoff.Next();
                    Log.Unreachable(logger, "Unavailable", e.Message, wait.Value);
                    state.Update(s => s with { Session = "unreachable", SessionDetail = e.Message });
                }
                catch (Exception e) when (e is not OperationCanceledException && !stoppingToken.IsCancellationRequested)
                {
                    // A bug or a surprise must not end the session loop for good: say so and retry like any failure.
                    wait = _backoff.Next();
                    Log.Unexpected(logger, e, wait.Value);
                    state.Update(s => s with { Session = "unreachable", SessionDetail = e.Message });
                }

                if (wait is { } delay && delay > TimeSpan.Zero)
                {
                    await Task.Delay(delay, clock, stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await LogoutAsync(cancellationToken);
    }

    private async Task<LiveSession> LoginAsync(StoredKey key, CancellationToken cancellationToken)
    {
        state.Update(s => s with { Session = "logging in" });
        var request = new LoginRequest
        {
            Endpoints = new MirrorEndpoints
            {
                RsyncUri = state.RsyncVersion is null ? string.Empty : options.RsyncUri,
                GitUri = state.GitVersion is null ? string.Empty : options.GitUri,
                PingAddress = options.PingAddress,
            },
            Limits = new LoadLimits { MaxClients = (uint)options.MaxClients, BandwidthKibps = (ulong)options.BandwidthKibps },
            Software = CoordinatorConnection.Software,
            ServeTo = options.ServeTo.Clone(),
        };
        request.Versions.AddRange(state.ContractVersions());
        LiveSession session;
        using (state.BeginLogin())
        {
            var reply = await coordinator.Sessions.LoginAsync(request, CoordinatorConnection.Call(key, cancellationToken: cancellationToken));
            var interval = reply.PingInterval?.ToTimeSpan() is { } i && i > TimeSpan.Zero ? i : TimeSpan.FromSeconds(60);
            session = new LiveSession(reply.SessionId, Convert.FromHexString(reply.SessionSecret), interval, clock.GetUtcNow());
            state.SetSession(session);
        }

        Log.LoggedIn(logger, key.KeyId, options.PingAddress, string.Join(", ", request.Versions.Select(v => v.Protocol)));
        return session;
    }

    private async Task KeepAsync(LiveSession session, CancellationToken cancellationToken)
    {
        var advertised = (state.RsyncVersion is not null, state.GitVersion is not null);
        // Silence longer than this means the coordinator lost us (restart without our session, revoked key…): ask it.
        var silenceLimit = (session.PingInterval * 3) + TimeSpan.FromSeconds(2);
        var lastContact = clock.GetUtcNow();
        while (!cancellationToken.IsCancellationRequested)
        {
            var versionsChanged = state.VersionsChanged;
            await Task.WhenAny(versionsChanged, Task.Delay(session.PingInterval, clock, cancellationToken));
            cancellationToken.ThrowIfCancellationRequested();
            var key = await enrolment.RotateIfDueAsync(cancellationToken);
            if (versionsChanged.IsCompleted)
            {
                if ((state.RsyncVersion is not null, state.GitVersion is not null) != advertised)
                {
                    // A protocol became servable: its endpoint must be advertised, which takes a new login.
                    return;
                }

                await ReportKeepingSessionAsync(key, session, cancellationToken);
                lastContact = clock.GetUtcNow();
                continue;
            }

            var heard = session.LastPingAt is { } ping && ping > lastContact ? ping : lastContact;
            if (clock.GetUtcNow() - heard > silenceLimit)
            {
                // Throws when the session or key is gone; otherwise the coordinator still knows us but cannot reach us.
                await ReportKeepingSessionAsync(key, session, cancellationToken);
                if (session.LastPingAt is null || clock.GetUtcNow() - session.LastPingAt > silenceLimit)
                {
                    Log.NotPinged(logger, options.PingAddress, silenceLimit);
                }

                lastContact = clock.GetUtcNow();
            }
        }
    }

    /// <summary>
    /// Reports with the session we hold until a coordinator answers: an unreachable or failing one is no reason to
    /// give the session up, since another coordinator on the same database (or this one, back) still knows it.
    /// Refusals (session superseded, key refused, banned) go to the caller, which logs in again or stops.
    /// </summary>
    private async Task ReportKeepingSessionAsync(StoredKey key, LiveSession session, CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                await ReportAsync(key, session, cancellationToken);
                if (_backoff.Failures > 0)
                {
                    _backoff.Reset();
                    Log.SessionKept(logger);
                    state.Update(s => s with { Session = session.LastPingAt is null ? "logged in" : "online", SessionDetail = null });
                }

                return;
            }
            catch (Exception e) when (IsTransient(e) && !cancellationToken.IsCancellationRequested)
            {
                var wait = _backoff.Next();
                var (status, detail) = e is RpcException rpc ? (rpc.StatusCode.ToString(), rpc.Status.Detail) : ("Unavailable", e.Message);
                Log.UnreachableKeepingSession(logger, status, detail, wait);
                state.Update(s => s with { Session = "unreachable", SessionDetail = detail + " (session kept)" });
                await Task.Delay(wait, clock, cancellationToken);
            }
        }
    }

    private static bool IsTransient(Exception e) =>
        e is RpcException rpc ? Refusal.Classify(rpc) == RefusalKind.Transient : e is HttpRequestException or IOException or TimeoutException;

    private async Task ReportAsync(StoredKey key, LiveSession session, CancellationToken cancellationToken)
    {
        var request = new ReportVersionRequest();
        request.Versions.AddRange(state.ContractVersions());
        await coordinator.Sessions.ReportVersionAsync(request, CoordinatorConnection.Call(key, session.Id, cancellationToken));
        Log.Reported(logger, string.Join(", ", request.Versions.Select(v => $"{v.Protocol} {v.Generated.ToDateTimeOffset():u}")));
    }

    private async Task LogoutAsync(CancellationToken cancellationToken)
    {
        var session = state.Session;
        var key = enrolment.Current;
        if (session is null || key is null)
        {
            return;
        }

        try
        {
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            limit.CancelAfter(TimeSpan.FromSeconds(5));
            await coordinator.Sessions.LogoutAsync(new LogoutRequest(), CoordinatorConnection.Call(key, session.Id, limit.Token).WithDeadline(DateTime.UtcNow.AddSeconds(5)));
            Log.LoggedOut(logger);
        }
        catch (Exception e) when (e is RpcException or HttpRequestException or IOException or OperationCanceledException or TimeoutException)
        {
            Log.LogoutFailed(logger, e.Message);
        }

        state.SetSession(null);
        state.Update(s => s with { Session = s.Stopped is null ? "logged out" : s.Session });
    }

    private void Banned(string reason)
    {
        Log.Banned(logger, reason);
        state.SetSession(null);
        state.Update(s => s with { Session = "banned", SessionDetail = reason, Stopped = "blacklisted by the coordinator: " + reason });
        exit.Fail(ExitCodes.Refused, "blacklisted by the coordinator: " + reason);
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Logged in as {KeyId}; pings expected at {PingAddress}; serving {Protocols}")]
        public static partial void LoggedIn(ILogger logger, string keyId, string pingAddress, string protocols);

        [LoggerMessage(2, LogLevel.Information, "Reported versions: {Versions}")]
        public static partial void Reported(ILogger logger, string versions);

        [LoggerMessage(3, LogLevel.Warning, "Coordinator unreachable or failing ({Status}: {Detail}); retrying in {Delay}")]
        public static partial void Unreachable(ILogger logger, string status, string detail, TimeSpan delay);

        [LoggerMessage(4, LogLevel.Information, "Session lost ({Detail}); logging in again")]
        public static partial void SessionLost(ILogger logger, string detail);

        [LoggerMessage(5, LogLevel.Warning, "Not pinged for over {Limit} although logged in: is {PingAddress} reachable from the coordinator?")]
        public static partial void NotPinged(ILogger logger, string pingAddress, TimeSpan limit);

        [LoggerMessage(6, LogLevel.Information, "Logged out")]
        public static partial void LoggedOut(ILogger logger);

        [LoggerMessage(7, LogLevel.Warning, "Logout failed: {Detail}")]
        public static partial void LogoutFailed(ILogger logger, string detail);

        [LoggerMessage(9, LogLevel.Error, "Session failed unexpectedly; retrying in {Delay}")]
        public static partial void Unexpected(ILogger logger, Exception exception, TimeSpan delay);

        [LoggerMessage(10, LogLevel.Warning, "No coordinator answered ({Status}: {Detail}); keeping the session and retrying in {Delay}")]
        public static partial void UnreachableKeepingSession(ILogger logger, string status, string detail, TimeSpan delay);

        [LoggerMessage(11, LogLevel.Information, "Session kept: a coordinator accepted it again")]
        public static partial void SessionKept(ILogger logger);

        [LoggerMessage(8, LogLevel.Critical, "Stopping: the coordinator blacklisted this mirror: {Reason}")]
        public static partial void Banned(ILogger logger, string reason);
    }
}
