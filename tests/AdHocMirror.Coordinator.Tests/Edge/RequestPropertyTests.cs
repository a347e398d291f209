using AdHocMirror.Contracts;
using AdHocMirror.Contracts.V1;
using AdHocMirror.Coordinator.Cli;
using AdHocMirror.Coordinator.Tests.Support;
using FsCheck;
using FsCheck.Fluent;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace AdHocMirror.Coordinator.Tests.Edge;

/// <summary>
/// Every ahm.v1 request message the coordinator takes, generated with extreme field values and sent over real gRPC:
/// each call is OK or a deliberate refusal with a short message, never UNKNOWN or INTERNAL, and afterwards every
/// admin view renders (table and JSON).
/// </summary>
public sealed class RequestPropertyTests
{
    private const int Cases = 60;

    private static readonly StatusCode[] Deliberate =
    [
        StatusCode.OK, StatusCode.InvalidArgument, StatusCode.Unauthenticated, StatusCode.PermissionDenied,
        StatusCode.NotFound, StatusCode.FailedPrecondition, StatusCode.ResourceExhausted,
    ];

    [Fact]
    public async Task Registry_and_Sessions_requests() => await CheckAsync(Gen.OneOf(
        Strings.Select(s => (IMessage)new RegisterRequest { Software = s }),
        Logins.Select(l => (IMessage)l),
        Versions.ListOf().Select(v => (IMessage)new ReportVersionRequest { Versions = { v } }),
        Gen.Constant((IMessage)new LogoutRequest()),
        Gen.Constant((IMessage)new RotateKeyRequest()),
        Gen.Constant((IMessage)new RetireKeyRequest())));

    [Fact]
    public async Task Matching_requests() => await CheckAsync(Gen.OneOf(
        from protocol in Protocols
        from current in Versions.Or(null)
        from country in Strings
        from point in Doubles.Two().Or(null)
        from count in Gen.Elements(0u, 1u, 3u, uint.MaxValue)
        select (IMessage)new FindMirrorRequest
        {
            Protocol = protocol,
            Current = current,
            Hint = new LocationHint { CountryCode = country, Point = point is null ? null : new GeoPoint { Latitude = point.Item1, Longitude = point.Item2 } },
            Count = count,
        },
        from lease in Strings
        from outcome in Gen.Elements(SyncOutcome.Unspecified, SyncOutcome.Success, SyncOutcome.Rollback, (SyncOutcome)99, (SyncOutcome)(-3))
        from bytes in Gen.Elements(0UL, 1UL, ulong.MaxValue)
        from duration in Doubles
        from verified in Versions.Or(null)
        from detail in Strings
        select (IMessage)new ReportSyncRequest { LeaseId = lease, Outcome = outcome, Bytes = bytes, DurationSeconds = duration, Verified = verified, Detail = detail }));

    [Fact]
    public async Task Admin_requests() => await CheckAsync(Gen.OneOf(
        Gen.Elements(MirrorState.Online, (MirrorState)42, (MirrorState)(-1)).ListOf().Select(s => (IMessage)new ListMirrorsRequest { States = { s } }),
        Gen.Elements(true, false).Select(t => (IMessage)new ListKeysRequest { IncludeTombstones = t }),
        from k in KeyIds from r in Strings select (IMessage)new RevokeKeyRequest { KeyId = k, Reason = r },
        from k in KeyIds from r in Strings from d in Durations select (IMessage)new BlacklistKeyRequest { KeyId = k, Reason = r, Duration = d },
        from k in KeyIds from r in Strings select (IMessage)new UnblacklistKeyRequest { KeyId = k, Reason = r },
        from p in Prefixes from r in Strings from d in Durations select (IMessage)new BlacklistNetworkRequest { Prefix = p, Reason = r, Duration = d },
        from p in Prefixes from r in Strings select (IMessage)new UnblacklistNetworkRequest { Prefix = p, Reason = r },
        from k in KeyIds from r in Strings select (IMessage)new ReleaseQuarantineRequest { KeyId = k, Reason = r },
        Gen.Constant((IMessage)new ListBlacklistRequest()),
        Gen.Constant((IMessage)new ListQuarantineRequest()),
        Gen.Constant((IMessage)new GetStatsRequest()),
        from l in Gen.Elements(0u, 1u, uint.MaxValue) from b in Gen.Elements(0UL, 1UL, ulong.MaxValue) select (IMessage)new ListAuditRequest { Limit = l, BeforeId = b }));

    private static Gen<string> Strings => Gen.OneOf(
        Gen.Elements(
            string.Empty, "gentoo", "\u0000", "\u001b[2J\r\nFAKE", "[red]x[/]", "😀", "\ud800", "%2e%2e/", "../../etc/passwd",
            new string('x', 5_000), new string('é', 70_000), "0123456789abcdef0123456789abcdef"),
        ArbMap.Default.GeneratorFor<string>().Select(s => s ?? string.Empty));

    private static Gen<string> Uris => Gen.OneOf(
        Strings,
        Gen.Elements(
            "rsync://127.0.0.1:8873/gentoo-portage", "git://127.0.0.1:9418/gentoo.git", "rsync://evil:0/gentoo-portage", "rsync://evil/a/../../etc/passwd",
            "rsync://evil/%2e%2e/%2e%2e/etc", "rsync://evil/gentoo;rm -rf /", "rsync://[::1]:99999/gentoo-portage", "git://u@h/gentoo.git", "rsync://h/gentoo-portage?x#y"));

    private static Gen<Timestamp?> Timestamps =>
        (from seconds in Gen.Elements(long.MinValue, -62_135_596_801, -1, 0, 946_684_800, 1_795_000_000, 1_795_300_000, 253_402_300_800, 1L << 62, long.MaxValue)
         from nanos in Gen.Elements(int.MinValue, -5, 0, 999_999_999, 1_000_000_000, int.MaxValue)
         select new Timestamp { Seconds = seconds, Nanos = nanos }).Or(null);

    private static Gen<Duration?> Durations =>
        (from seconds in Gen.Elements(long.MinValue, -1, 0, 1, 86_400, 315_576_000_001, long.MaxValue)
         from nanos in Gen.Elements(int.MinValue, -1, 0, 1, 999_999_999, int.MaxValue)
         select new Duration { Seconds = seconds, Nanos = nanos }).Or(null);

    private static Gen<Protocol> Protocols => Gen.Elements(Protocol.Unspecified, Protocol.Rsync, Protocol.Git, (Protocol)7, (Protocol)(-2));

    private static Gen<TreeVersion> Versions =>
        from protocol in Protocols
        from generated in Timestamps
        from commit in Gen.OneOf(Strings, Gen.Elements(new string('a', 40), new string('F', 64), new string('0', 65)))
        select new TreeVersion { Protocol = protocol, Generated = generated, Commit = commit };

    private static Gen<double> Doubles => Gen.Elements(0, -0.0, 1.5, -91, 181, 1e308, double.NaN, double.PositiveInfinity, double.NegativeInfinity, double.Epsilon);

    private static Gen<string> KeyIds => Gen.OneOf(Strings, Gen.Elements("0123456789ABCDEF0123456789abcdef ", " 00000000000000000000000000000000"));

    private static Gen<string> Prefixes => Gen.OneOf(Strings, Gen.Elements("198.51.100.0/24", "198.51.100.1/24", "::/0", "0.0.0.0/0", "10.0.0.0/33", "2001:db8::/48", "1.2.3.4/-1"));

    private static Gen<LoginRequest> Logins =>
        from rsync in Uris
        from git in Uris
        from ping in Gen.OneOf(Strings, Gen.Elements("127.0.0.1:9", "127.0.0.1:0", "[::1]:9", "localhost:9", "127.0.0.1:65536"))
        from versions in Versions.ListOf()
        from maxClients in Gen.Elements(0u, 1u, 10u, 100_001u, uint.MaxValue)
        from bandwidth in Gen.Elements(0UL, ulong.MaxValue)
        from software in Strings
        from withEndpoints in Gen.Elements(true, true, false)
        select new LoginRequest
        {
            Endpoints = withEndpoints ? new MirrorEndpoints { RsyncUri = rsync, GitUri = git, PingAddress = ping } : null,
            Versions = { versions },
            Limits = new LoadLimits { MaxClients = maxClients, BandwidthKibps = bandwidth },
            Software = software,
        };

    private static async Task CheckAsync(Gen<IMessage> requests)
    {
        await using var c = await CoordinatorFixture.StartAsync();
        var failures = new List<string>();
        var property = Prop.ForAll(Arb.From(requests.Select(r => new Case(r))), (Case call) =>
        {
            var (code, detail) = SendAsync(c, call.Request).GetAwaiter().GetResult();
            var fine = Deliberate.Contains(code) && detail.Length <= 600;
            if (!fine)
            {
                failures.Add($"{code} ({detail.Length} characters: {InputText.Quote(detail)}) for {call}");
            }

            return fine;
        });
        Check.One(Config.Quick.WithMaxTest(Cases).WithQuietOnSuccess(true), property);
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(5)));

        // Whatever was accepted, staff can still list it.
        AdminRender.All(await c.Admin.ListMirrorsAsync(new()));
        AdminRender.All(await c.Admin.ListKeysAsync(new() { IncludeTombstones = true }));
        AdminRender.All(await c.Admin.ListAuditAsync(new() { Limit = 1000 }));
        AdminRender.All(await c.Admin.ListBlacklistAsync(new()));
        AdminRender.All(await c.Admin.ListQuarantineAsync(new()));
        AdminRender.All(await c.Admin.GetStatsAsync(new()));
    }

    private static async Task<(StatusCode Code, string Detail)> SendAsync(CoordinatorFixture c, IMessage request)
    {
        try
        {
            var matching = new MatchingClient(c.Channel);
            switch (request)
            {
                case RegisterRequest r: await c.Registry.RegisterAsync(r); break;
                case LoginRequest r: await c.Sessions.LoginAsync(r, CoordinatorFixture.With(await c.RegisterAsync())); break;
                case ReportVersionRequest r: await c.Sessions.ReportVersionAsync(r, await SessionAsync(c)); break;
                case LogoutRequest r: await c.Sessions.LogoutAsync(r, await SessionAsync(c)); break;
                case RotateKeyRequest r: await c.Registry.RotateKeyAsync(r, CoordinatorFixture.With(await c.RegisterAsync())); break;
                case RetireKeyRequest r: await c.Registry.RetireKeyAsync(r, CoordinatorFixture.With(await c.RegisterAsync())); break;
                case FindMirrorRequest r: await matching.FindMirrorAsync(r); break;
                case ReportSyncRequest r: await matching.ReportSyncAsync(r); break;
                case ListMirrorsRequest r: await c.Admin.ListMirrorsAsync(r); break;
                case ListKeysRequest r: await c.Admin.ListKeysAsync(r); break;
                case RevokeKeyRequest r: await c.Admin.RevokeKeyAsync(r); break;
                case BlacklistKeyRequest r: await c.Admin.BlacklistKeyAsync(r); break;
                case UnblacklistKeyRequest r: await c.Admin.UnblacklistKeyAsync(r); break;
                case BlacklistNetworkRequest r: await c.Admin.BlacklistNetworkAsync(r); break;
                case UnblacklistNetworkRequest r: await c.Admin.UnblacklistNetworkAsync(r); break;
                case ReleaseQuarantineRequest r: await c.Admin.ReleaseQuarantineAsync(r); break;
                case ListBlacklistRequest r: await c.Admin.ListBlacklistAsync(r); break;
                case ListQuarantineRequest r: await c.Admin.ListQuarantineAsync(r); break;
                case GetStatsRequest r: await c.Admin.GetStatsAsync(r); break;
                case ListAuditRequest r: await c.Admin.ListAuditAsync(r); break;
                default: throw new ArgumentException(request.Descriptor.Name, nameof(request));
            }

            return (StatusCode.OK, string.Empty);
        }
        catch (RpcException e)
        {
            return (e.StatusCode, e.Status.Detail);
        }
    }

    private static async Task<CallOptions> SessionAsync(CoordinatorFixture c)
    {
        var key = await c.RegisterAsync();
        var login = await c.Sessions.LoginAsync(CoordinatorFixture.Login(9), CoordinatorFixture.With(key));
        return CoordinatorFixture.With(key, login.SessionId);
    }

    /// <summary>A generated request; shown through the admin CLI's defensive JSON, since protobuf's own ToString throws on a bad timestamp.</summary>
    private sealed record Case(IMessage Request)
    {
        public override string ToString()
        {
            var json = AdminViews.Json(Request);
            return $"{Request.Descriptor.Name} {(json.Length > 400 ? json[..400] + "…" : json)}";
        }
    }
}

internal static class GenExtensions
{
    public static Gen<T?> Or<T>(this Gen<T> gen, T? none)
        where T : class => Gen.Frequency((1, Gen.Constant(none)), (3, gen.Select(v => (T?)v)));

    public static Gen<Tuple<double, double>> Two(this Gen<double> gen) => from a in gen from b in gen select Tuple.Create(a, b);
}
