using System.Net;
using AdHocMirror.Contracts.V1;

namespace AdHocMirror.Coordinator.Mirrors;

/// <summary>
/// The live mirrors, one per key: session, state, endpoints, versions, load and location. In memory only
/// (sessions are persisted separately). <see cref="Changed"/> is raised, in order and under the
/// directory's lock, whenever a mirror becomes eligible or ineligible or changes version, load or
/// location, so that a matching index can follow without scanning; handlers must be quick and must
/// not call back into the directory.
/// </summary>
public sealed class MirrorDirectory
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Entry> _mirrors = new(StringComparer.Ordinal);
    private bool _applyingShared; // read and written under _gate only

    public event Action<MirrorChange>? Changed;

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _mirrors.Count;
            }
        }
    }

    /// <summary>Opens the session of a key, superseding the one before (whose id stops working at once).</summary>
    public MirrorView Open(OpenSession session)
    {
        lock (_gate)
        {
            if (_mirrors.Remove(session.KeyId, out var old))
            {
                RaiseIfEligible(old, MirrorChangeKind.Ineligible);
            }

            var entry = new Entry(session);
            _mirrors[session.KeyId] = entry;
            return entry.View();
        }
    }

    /// <summary>Ends the mirror's session if it is <paramref name="sessionId"/> (null = whatever session).</summary>
    public bool Remove(string keyId, string? sessionId = null)
    {
        lock (_gate)
        {
            if (!_mirrors.TryGetValue(keyId, out var entry) || (sessionId is not null && entry.SessionId != sessionId))
            {
                return false;
            }

            _mirrors.Remove(keyId);
            RaiseIfEligible(entry, MirrorChangeKind.Ineligible);
            return true;
        }
    }

    /// <summary>Removes every mirror whose login address or ping host lies in <paramref name="network"/>; returns their keys.</summary>
    public IReadOnlyList<string> RemoveIn(IPNetwork network)
    {
        lock (_gate)
        {
            var gone = _mirrors.Values.Where(e => (e.Peer is { } p && network.Contains(p)) || (e.PingHost is { } h && network.Contains(h))).ToList();
            foreach (var entry in gone)
            {
                _mirrors.Remove(entry.KeyId);
                RaiseIfEligible(entry, MirrorChangeKind.Ineligible);
            }

            return gone.Select(e => e.KeyId).ToList();
        }
    }

    /// <summary>A rotated key keeps its session: the mirror is re-filed under its new key id.</summary>
    public void Rekey(string oldKeyId, string newKeyId)
    {
        lock (_gate)
        {
            if (_mirrors.Remove(oldKeyId, out var entry))
            {
                RaiseIfEligible(entry, MirrorChangeKind.Ineligible);
                entry.KeyId = newKeyId;
                _mirrors[newKeyId] = entry;
                RaiseIfEligible(entry, MirrorChangeKind.Eligible);
            }
        }
    }

    public MirrorView? Find(string keyId)
    {
        lock (_gate)
        {
            return _mirrors.TryGetValue(keyId, out var entry) ? entry.View() : null;
        }
    }

    /// <summary>The session secret needed to check a ping answer, if the session is still the live one.</summary>
    internal byte[]? SecretOf(string keyId, string sessionId)
    {
        lock (_gate)
        {
            return _mirrors.TryGetValue(keyId, out var entry) && entry.SessionId == sessionId ? entry.Secret : null;
        }
    }

    public IReadOnlyList<MirrorView> List()
    {
        lock (_gate)
        {
            return _mirrors.Values.Select(e => e.View()).ToList();
        }
    }

    public Dictionary<MirrorState, int> CountByState()
    {
        var counts = new Dictionary<MirrorState, int>
        {
            [MirrorState.Pinging] = 0,
            [MirrorState.Online] = 0,
            [MirrorState.Offline] = 0,
            [MirrorState.Quarantined] = 0,
        };
        lock (_gate)
        {
            foreach (var entry in _mirrors.Values)
            {
                counts[entry.State]++;
            }
        }

        return counts;
    }

    /// <summary>Live mirrors logged in from <paramref name="address"/> (other than <paramref name="exceptKeyId"/>).</summary>
    public int CountFrom(IPAddress address, string? exceptKeyId = null)
    {
        lock (_gate)
        {
            return _mirrors.Values.Count(e => e.KeyId != exceptKeyId && e.Peer is { } p && p.Equals(address));
        }
    }

    /// <summary>Records the versions a mirror reports; false when the session is not the live one.</summary>
    public bool ReportVersions(string keyId, string sessionId, IEnumerable<TreeVersion> versions)
    {
        lock (_gate)
        {
            if (!_mirrors.TryGetValue(keyId, out var entry) || entry.SessionId != sessionId)
            {
                return false;
            }

            SetVersions(entry, versions);
            return true;
        }
    }

    /// <summary>Applies a ping outcome: the first good one brings a mirror online, <paramref name="failuresToOffline"/> bad ones in a row take it offline.</summary>
    public MirrorState? RecordPing(string keyId, string sessionId, PingOutcome outcome, int failuresToOffline)
    {
        lock (_gate)
        {
            if (!_mirrors.TryGetValue(keyId, out var entry) || entry.SessionId != sessionId)
            {
                return null;
            }

            var wasEligible = entry.IsEligible;
            entry.LastPingMs = outcome.LatencyMs;
            if (outcome.Reply is { } reply)
            {
                entry.LastPing = outcome.At;
                entry.Failures = 0;
                if (entry.State is MirrorState.Pinging or MirrorState.Offline)
                {
                    entry.State = MirrorState.Online;
                }

                entry.PingedGood = true;
                if (reply.Versions.Count > 0)
                {
                    SetVersions(entry, reply.Versions);
                }

                if (entry.ActiveConnections != reply.ActiveConnections)
                {
                    entry.ActiveConnections = reply.ActiveConnections;
                    if (entry.IsEligible && wasEligible)
                    {
                        Raise(entry, MirrorChangeKind.LoadChanged);
                    }
                }
            }
            else
            {
                entry.Failures++;
                if (entry.Failures >= failuresToOffline && entry.State is MirrorState.Online or MirrorState.Pinging)
                {
                    entry.State = MirrorState.Offline;
                    entry.PingedGood = false;
                }
            }

            RaiseTransition(entry, wasEligible);
            return entry.State;
        }
    }

    /// <summary>
    /// Applies the live state the coordinator that pings this session published (several coordinators on
    /// one database). Quarantine stays this coordinator's own record; a state other than pinging, online
    /// or offline is ignored. False when the session is not the live one here.
    /// </summary>
    public bool ApplyShared(string keyId, string sessionId, MirrorState state, IReadOnlyList<TreeVersion>? versions, uint activeConnections, DateTimeOffset? lastPing, double lastPingMs)
    {
        lock (_gate)
        {
            if (!_mirrors.TryGetValue(keyId, out var entry) || entry.SessionId != sessionId)
            {
                return false;
            }

            _applyingShared = true;
            try
            {
                var wasEligible = entry.IsEligible;
                entry.LastPing = lastPing ?? entry.LastPing;
                entry.LastPingMs = lastPingMs;
                if (versions is { Count: > 0 })
                {
                    SetVersions(entry, versions);
                }

                if (state is MirrorState.Online or MirrorState.Offline or MirrorState.Pinging)
                {
                    entry.PingedGood = state == MirrorState.Online;
                    entry.Failures = state == MirrorState.Offline ? Math.Max(entry.Failures, 1) : 0;
                    if (entry.State != MirrorState.Quarantined)
                    {
                        entry.State = state;
                    }
                }

                if (entry.ActiveConnections != activeConnections)
                {
                    entry.ActiveConnections = activeConnections;
                    if (entry.IsEligible && wasEligible)
                    {
                        Raise(entry, MirrorChangeKind.LoadChanged);
                    }
                }

                RaiseTransition(entry, wasEligible);
                return true;
            }
            finally
            {
                _applyingShared = false;
            }
        }
    }

    public bool SetQuarantined(string keyId, bool quarantined)
    {
        lock (_gate)
        {
            if (!_mirrors.TryGetValue(keyId, out var entry))
            {
                return false;
            }

            var wasEligible = entry.IsEligible;
            entry.State = quarantined ? MirrorState.Quarantined
                : entry.PingedGood && entry.Failures == 0 ? MirrorState.Online
                : MirrorState.Pinging;
            RaiseTransition(entry, wasEligible);
            return true;
        }
    }

    /// <summary>The seam for GeoIP: matching may place a mirror after login (or move it when the database changes).</summary>
    public bool SetLocation(string keyId, GeoPoint? location, string place, string? country = null, string? continent = null)
    {
        lock (_gate)
        {
            if (!_mirrors.TryGetValue(keyId, out var entry))
            {
                return false;
            }

            entry.Location = location;
            entry.Place = place;
            entry.Country = country;
            entry.Continent = continent;
            if (entry.IsEligible)
            {
                Raise(entry, MirrorChangeKind.LocationChanged);
            }

            return true;
        }
    }

    private void SetVersions(Entry entry, IEnumerable<TreeVersion> versions)
    {
        var list = versions.Select(v => v.Clone()).ToList();
        if (!list.SequenceEqual(entry.Versions))
        {
            entry.Versions = list;
            if (entry.IsEligible)
            {
                Raise(entry, MirrorChangeKind.VersionChanged);
            }
        }
    }

    private void RaiseTransition(Entry entry, bool wasEligible)
    {
        if (entry.IsEligible != wasEligible)
        {
            Raise(entry, entry.IsEligible ? MirrorChangeKind.Eligible : MirrorChangeKind.Ineligible);
        }
    }

    private void RaiseIfEligible(Entry entry, MirrorChangeKind kind)
    {
        if (entry.IsEligible)
        {
            Raise(entry, kind);
        }
    }

    private void Raise(Entry entry, MirrorChangeKind kind)
    {
        var view = entry.View();
        if (kind == MirrorChangeKind.Ineligible && !_mirrors.ContainsKey(entry.KeyId))
        {
            view = view with { State = MirrorState.Offline };
        }

        Changed?.Invoke(new MirrorChange(kind, view) { Shared = _applyingShared });
    }

    private sealed class Entry(OpenSession session)
    {
        public string KeyId { get; set; } = session.KeyId;

        public string SessionId { get; } = session.SessionId;

        public byte[] Secret { get; } = session.Secret;

        public IPAddress? Peer { get; } = session.Peer;

        public IPAddress? PingHost { get; } = IPAddress.TryParse(HostOf(session.Endpoints.PingAddress), out var h) ? h : null;

        public MirrorEndpoints Endpoints { get; } = session.Endpoints.Clone();

        public LoadLimits Limits { get; } = session.Limits.Clone();

        public List<TreeVersion> Versions { get; set; } = session.Versions.Select(v => v.Clone()).ToList();

        public GeoPoint? Location { get; set; } = session.Location?.Point;

        public string Place { get; set; } = session.Location?.Place ?? string.Empty;

        public string? Country { get; set; } = session.Location?.Country;

        public string? Continent { get; set; } = session.Location?.Continent;

        public ServeTo? ServeTo { get; } = session.ServeTo?.Clone();

        public MirrorState State { get; set; } = session.Quarantined ? MirrorState.Quarantined : MirrorState.Pinging;

        public bool PingedGood { get; set; }

        public DateTimeOffset LoggedInAt { get; } = session.LoggedInAt;

        public DateTimeOffset? LastPing { get; set; }

        public double LastPingMs { get; set; }

        public int Failures { get; set; }

        public uint ActiveConnections { get; set; }

        public bool IsEligible => State == MirrorState.Online;

        public MirrorView View() => new(KeyId, SessionId, State, Endpoints, Versions, Limits, Location, Place, ActiveConnections, LoggedInAt, LastPing, LastPingMs, Failures)
        {
            Peer = Peer,
            Country = Country,
            Continent = Continent,
            ServeTo = ServeTo,
        };

        private static string HostOf(string hostPort)
        {
            var colon = hostPort.LastIndexOf(':');
            var host = colon > 0 ? hostPort[..colon] : hostPort;
            return host.StartsWith('[') && host.EndsWith(']') ? host[1..^1] : host;
        }
    }
}

/// <summary>What a login hands to the directory.</summary>
public sealed record OpenSession(
    string KeyId,
    string SessionId,
    byte[] Secret,
    MirrorEndpoints Endpoints,
    IReadOnlyList<TreeVersion> Versions,
    LoadLimits Limits,
    IPAddress? Peer,
    MirrorLocation? Location,
    DateTimeOffset LoggedInAt,
    bool Quarantined,
    ServeTo? ServeTo = null);

/// <summary>A ping's result: <see cref="Reply"/> is null when it failed (no answer, error, or a bad proof).</summary>
public sealed record PingOutcome(DateTimeOffset At, double LatencyMs, PingReply? Reply);
