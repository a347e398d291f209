using AdHocMirror.Contracts.V1;
using AdHocMirror.Coordinator.Cli;
using AdHocMirror.Coordinator.Tests.Support;
using AdHocMirror.Testing;
using Google.Protobuf.WellKnownTypes;

namespace AdHocMirror.Coordinator.Tests.Edge;

/// <summary>Issue 21, "Hostile or malformed input": what an outsider can send is refused at the edge, and nothing stored breaks a view.</summary>
public sealed class HostileInputTests
{
    private const long Huge = 1L << 62;

    [Fact]
    public async Task A_zombie_mirror_answering_with_an_impossible_version_fails_its_pings_and_every_admin_view_still_renders()
    {
        await using var c = await CoordinatorFixture.StartAsync();
        await using var zombie = new FakeMirror();
        await zombie.StartAsync();
        var key = await c.RegisterAsync();
        var login = await c.Sessions.LoginAsync(CoordinatorFixture.Login(zombie.Port), CoordinatorFixture.With(key));
        zombie.Accept(login); // a correct proof ...
        zombie.Versions.Add(new TreeVersion { Protocol = Protocol.Rsync, Generated = new Timestamp { Seconds = Huge } }); // ... with a version no clock can hold

        await c.AdvanceUntilAsync(() => c.Directory.Find(key.KeyId)!.FailedPings >= 3, TimeSpan.FromSeconds(70), "three answers refused as failed pings");
        var mirror = c.Directory.Find(key.KeyId)!;
        Assert.NotEqual(MirrorState.Online, mirror.State);
        Assert.Equal(new DateTimeOffset(2026, 11, 21, 0, 45, 1, TimeSpan.Zero), mirror.VersionOf(Protocol.Rsync)!.Generated.ToDateTimeOffset());
        Assert.True((await c.Admin.GetStatsAsync(new())).Values["ahm_pings_total{result=\"failed\"}"] >= 3);

        var mirrors = await c.Admin.ListMirrorsAsync(new());
        AdminRender.All(mirrors);
        Assert.Equal(MirrorState.Offline, Assert.Single(mirrors.Mirrors).State);
    }

    [Fact]
    public void Admin_views_render_whatever_a_reply_holds()
    {
        var reply = new ListMirrorsReply
        {
            Mirrors =
            {
                new MirrorInfo
                {
                    KeyId = "[red]\u001b[2J\nkey",
                    Versions = { new TreeVersion { Protocol = (Protocol)77, Generated = new Timestamp { Seconds = Huge, Nanos = -5 }, Commit = "zz\u0007" } },
                    LastPing = new Timestamp { Seconds = -Huge },
                    Place = "[/]",
                    Endpoints = new MirrorEndpoints { RsyncUri = "rsync://x/[b]" },
                },
            },
        };
        var text = AdminRender.All(reply);
        Assert.Contains(AdminViews.InvalidTime, text, StringComparison.Ordinal);
        Assert.DoesNotContain("\u001b", text, StringComparison.Ordinal);
        AdminRender.All(new ListKeysReply { Keys = { new KeyInfo { KeyId = "k", IssuedAt = new Timestamp { Nanos = int.MaxValue }, Reason = "\u0000" } } });
        AdminRender.All(new ListAuditReply { Entries = { new AuditEntry { At = new Timestamp { Seconds = long.MinValue }, Subject = "[x" } } });
    }

    public static TheoryData<string, Action<FindMirrorRequest>> BadFinds => new()
    {
        { "current.generated", r => r.Current = new TreeVersion { Protocol = Protocol.Rsync, Generated = new Timestamp { Seconds = Huge } } },
        { "current.generated", r => r.Current = new TreeVersion { Protocol = Protocol.Rsync, Generated = new Timestamp { Seconds = 1_700_000_000, Nanos = -5 } } },
        { "current.generated", r => r.Current = new TreeVersion { Protocol = Protocol.Rsync, Generated = Timestamp.FromDateTimeOffset(new DateTimeOffset(1999, 12, 31, 0, 0, 0, TimeSpan.Zero)) } },
        { "current.generated", r => r.Current = new TreeVersion { Protocol = Protocol.Rsync, Generated = Timestamp.FromDateTimeOffset(new DateTimeOffset(2026, 11, 23, 0, 0, 0, TimeSpan.Zero)) } },
        { "current.commit", r => r.Current = new TreeVersion { Protocol = Protocol.Git, Commit = new string('g', 10_000) } },
        { "hint.country_code", r => r.Hint = new LocationHint { CountryCode = new string('x', 20_000) } },
    };

    [Theory]
    [MemberData(nameof(BadFinds))]
    public async Task FindMirror_refuses_out_of_range_fields_naming_them(string field, Action<FindMirrorRequest> spoil)
    {
        await using var c = await CoordinatorFixture.StartAsync();
        var request = new FindMirrorRequest { Protocol = Protocol.Rsync };
        spoil(request);
        var e = await Assert.ThrowsAsync<RpcException>(() => new MatchingClient(c.Channel).FindMirrorAsync(request).ResponseAsync);
        AssertNames(e, field);
    }

    public static TheoryData<string, Action<ReportSyncRequest>> BadReports => new()
    {
        { "verified.generated", r => r.Verified = new TreeVersion { Protocol = Protocol.Rsync, Generated = new Timestamp { Seconds = Huge } } },
        { "duration_seconds", r => r.DurationSeconds = double.NaN },
        { "duration_seconds", r => r.DurationSeconds = -1 },
        { "detail", r => r.Detail = new string('d', 100_000) },
        { "lease_id", r => r.LeaseId = new string('l', 100_000) },
    };

    [Theory]
    [MemberData(nameof(BadReports))]
    public async Task ReportSync_refuses_out_of_range_fields_naming_them(string field, Action<ReportSyncRequest> spoil)
    {
        await using var c = await CoordinatorFixture.StartAsync();
        var request = new ReportSyncRequest { LeaseId = "0123456789abcdef0123456789abcdef", Outcome = SyncOutcome.Success };
        spoil(request);
        var e = await Assert.ThrowsAsync<RpcException>(() => new MatchingClient(c.Channel).ReportSyncAsync(request).ResponseAsync);
        AssertNames(e, field);
    }

    public static TheoryData<string, Action<LoginRequest>> BadLogins => new()
    {
        { "rsync_uri", r => r.Endpoints.RsyncUri = "rsync://evil:0/gentoo-portage" },
        { "rsync_uri", r => r.Endpoints.RsyncUri = "rsync://evil/a/../../etc/passwd" },
        { "rsync_uri", r => r.Endpoints.RsyncUri = "rsync://evil/%2e%2e/%2e%2e/etc" },
        { "rsync_uri", r => r.Endpoints.RsyncUri = "rsync://evil/gentoo;rm -rf /" },
        { "rsync_uri", r => r.Endpoints.RsyncUri = "rsync://evil/gentoo-portage/../gentoo-portage" },
        { "rsync_uri", r => r.Endpoints.RsyncUri = "rsync://evil/gentoo" },
        { "rsync_uri", r => r.Endpoints.RsyncUri = "rsync://evil:/gentoo-portage" },
        { "git_uri", r => r.Endpoints.GitUri = "git://evil/gentoo.git/../../x" },
        { "git_uri", r => r.Endpoints.GitUri = "git://evil:65536/gentoo.git" },
        { "git_uri", r => r.Endpoints.GitUri = "git://evil/%67entoo.git" },
        { "versions[0].generated", r => r.Versions[0].Generated = new Timestamp { Seconds = Huge } },
        { "versions[0].generated", r => r.Versions[0].Generated = new Timestamp { Seconds = 1_700_000_000, Nanos = -5 } },
        { "versions[0].generated", r => r.Versions[0].Generated = Timestamp.FromDateTimeOffset(new DateTimeOffset(2035, 1, 1, 0, 0, 0, TimeSpan.Zero)) },
        { "versions[0].commit", r => r.Versions[0].Commit = new string('x', 20_000) },
        { "versions[0].commit", r => r.Versions[0].Commit = new string('x', 10_000) },
    };

    [Theory]
    [MemberData(nameof(BadLogins))]
    public async Task Login_refuses_endpoints_and_versions_a_daemon_never_sends(string field, Action<LoginRequest> spoil)
    {
        await using var c = await CoordinatorFixture.StartAsync();
        var key = await c.RegisterAsync();
        var request = CoordinatorFixture.Login(9);
        spoil(request);
        var e = await Assert.ThrowsAsync<RpcException>(() => c.Sessions.LoginAsync(request, CoordinatorFixture.With(key)).ResponseAsync);
        AssertNames(e, field);
        Assert.Null(c.Directory.Find(key.KeyId));
    }

    [Fact]
    public async Task Login_accepts_the_endpoints_a_daemon_serves()
    {
        await using var c = await CoordinatorFixture.StartAsync();
        var key = await c.RegisterAsync();
        var request = CoordinatorFixture.Login(9);
        request.Endpoints.RsyncUri = "rsync://127.0.0.1/gentoo-portage";
        request.Endpoints.GitUri = "git://[::1]:9418/gentoo.git";
        await c.Sessions.LoginAsync(request, CoordinatorFixture.With(key));
        Assert.NotNull(c.Directory.Find(key.KeyId));
    }

    private static void AssertNames(RpcException e, string field)
    {
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Contains(field, e.Status.Detail, StringComparison.Ordinal);
        Assert.True(e.Status.Detail.Length <= 300, $"a {e.Status.Detail.Length}-character message");
    }
}
