using AdHocMirror.Contracts.V1;
using AdHocMirror.Tree.Versions;

using TreeVersion = AdHocMirror.Tree.Versions.TreeVersion;

namespace AdHocMirror.Daemon.Status;

/// <summary>
/// The daemon's live state shared by its parts: what it serves (verified versions), its session with the coordinator
/// (read by the ping service), and the status shown by <c>ahm-daemon status</c>.
/// </summary>
public sealed class MirrorState
{
    private readonly Lock _gate = new();
    private DaemonStatus _status;
    private TaskCompletionSource _versionsChanged = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _sessionChanged = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _loginsInFlight;

    public MirrorState(TimeProvider clock)
    {
        Clock = clock;
        _status = new DaemonStatus { Pid = Environment.ProcessId, StartedAt = clock.GetUtcNow(), UpdatedAt = clock.GetUtcNow() };
    }

    public TimeProvider Clock { get; }

    public event Action? Changed;

    public DaemonStatus Status
    {
        get
        {
            lock (_gate)
            {
                return _status;
            }
        }
    }

    /// <summary>The session the coordinator opened for us, or null while logged out.</summary>
    public LiveSession? Session { get; private set; }

    public TreeVersion? RsyncVersion { get; private set; }

    public TreeVersion? GitVersion { get; private set; }

    /// <summary>Completes at the next change of a served version.</summary>
    public Task VersionsChanged
    {
        get
        {
            lock (_gate)
            {
                return _versionsChanged.Task;
            }
        }
    }

    public IReadOnlyList<AdHocMirror.Contracts.V1.TreeVersion> ContractVersions()
    {
        var list = new List<AdHocMirror.Contracts.V1.TreeVersion>(2);
        if (RsyncVersion is { } rsync)
        {
            list.Add(rsync.ToContract(Protocol.Rsync));
        }

        if (GitVersion is { } git)
        {
            list.Add(git.ToContract(Protocol.Git));
        }

        return list;
    }

    public void Update(Func<DaemonStatus, DaemonStatus> change)
    {
        ArgumentNullException.ThrowIfNull(change);
        lock (_gate)
        {
            _status = change(_status) with { UpdatedAt = Clock.GetUtcNow() };
        }

        Changed?.Invoke();
    }

    public void UpdateProtocol(Protocol protocol, Func<ProtocolStatus, ProtocolStatus> change)
    {
        ArgumentNullException.ThrowIfNull(change);
        Update(s => protocol == Protocol.Git
            ? s with { Git = change(s.Git ?? new ProtocolStatus()) }
            : s with { Rsync = change(s.Rsync ?? new ProtocolStatus()) });
    }

    /// <summary>Records a newly served (verified and published) version.</summary>
    public void SetVersion(Protocol protocol, TreeVersion version, string snapshot)
    {
        TaskCompletionSource changed;
        lock (_gate)
        {
            if (protocol == Protocol.Git)
            {
                GitVersion = version;
            }
            else
            {
                RsyncVersion = version;
            }

            changed = _versionsChanged;
            _versionsChanged = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        UpdateProtocol(protocol, p => p with { Version = version.Generated, Commit = version.Commit, Snapshot = snapshot });
        changed.TrySetResult();
    }

    /// <summary>Marks a Login call in flight until the returned handle is disposed.</summary>
    public IDisposable BeginLogin()
    {
        Interlocked.Increment(ref _loginsInFlight);
        return new LoginInFlight(this);
    }

    /// <summary>
    /// The session a ping names. The coordinator pings at once after a login, so the ping can arrive before the
    /// login's reply: while a login is in flight, a ping for a session we do not hold yet waits (at most
    /// <paramref name="wait"/>) for that login to end. Otherwise it gets the current session at once, so a stranger's
    /// pings hold nothing.
    /// </summary>
    public async Task<LiveSession?> SessionForAsync(string sessionId, TimeSpan wait, CancellationToken cancellationToken)
    {
        var deadline = Clock.GetTimestamp() + (long)(wait.TotalSeconds * Clock.TimestampFrequency);
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                changed = _sessionChanged.Task;
            }

            var session = Session;
            var left = Clock.GetElapsedTime(Clock.GetTimestamp(), deadline);
            if (session?.Id == sessionId || Volatile.Read(ref _loginsInFlight) == 0 || left <= TimeSpan.Zero)
            {
                return session;
            }

            try
            {
                await changed.WaitAsync(left, Clock, cancellationToken);
            }
            catch (TimeoutException)
            {
                return Session;
            }
        }
    }

    public void SetSession(LiveSession? session)
    {
        Session = session;
        SignalSessionChanged();
        Update(s => session is null
            ? s with { LastPingAt = null }
            : s with { Session = "logged in", SessionDetail = null, LoggedInAt = session.LoggedInAt, LastPingAt = null });
    }

    private void SignalSessionChanged()
    {
        TaskCompletionSource changed;
        lock (_gate)
        {
            changed = _sessionChanged;
            _sessionChanged = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        changed.TrySetResult();
    }

    public void RecordPing()
    {
        if (Session is { } session)
        {
            session.LastPingAt = Clock.GetUtcNow();
        }

        Update(s => s with { Session = "online", SessionDetail = null, LastPingAt = Clock.GetUtcNow(), Pings = s.Pings + 1 });
    }

    private sealed class LoginInFlight(MirrorState state) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                Interlocked.Decrement(ref state._loginsInFlight);
                state.SignalSessionChanged();
            }
        }
    }
}

/// <summary>A login session: its id, the secret that proves it in pings, and when the coordinator last pinged.</summary>
public sealed class LiveSession(string id, byte[] secret, TimeSpan pingInterval, DateTimeOffset loggedInAt)
{
    public string Id { get; } = id;

    public byte[] Secret { get; } = secret;

    public TimeSpan PingInterval { get; } = pingInterval;

    public DateTimeOffset LoggedInAt { get; } = loggedInAt;

    public DateTimeOffset? LastPingAt { get; set; }
}
