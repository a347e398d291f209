using AdHocMirror.Contracts;
using AdHocMirror.Contracts.V1;
using AdHocMirror.Coordinator.Sessions;
using AdHocMirror.Coordinator.Tests.Support;
using Grpc.Core;

namespace AdHocMirror.Coordinator.Tests.Sessions;

public sealed class SessionTests
{
    [Fact]
    public async Task Login_opens_a_session_with_secret_interval_and_key_expiry()
    {
        await using var c = await CoordinatorFixture.StartAsync();
        var key = await c.RegisterAsync();
        var login = await c.Sessions.LoginAsync(CoordinatorFixture.Login(9), CoordinatorFixture.With(key));
        Assert.Matches("^[0-9a-f]{32}$", login.SessionId);
        Assert.Matches("^[0-9a-f]{64}$", login.SessionSecret);
        Assert.Equal(TimeSpan.FromSeconds(60), login.PingInterval.ToTimeSpan());
        Assert.Equal(key.ExpiresAt, login.KeyExpiresAt);
        var mirror = c.Directory.Find(key.KeyId)!;
        Assert.Equal(MirrorState.Pinging, mirror.State);
        Assert.False(mirror.IsEligible);
        Assert.Equal(10u, mirror.Limits.MaxClients);

        await c.Sessions.ReportVersionAsync(
            new ReportVersionRequest { Versions = { CoordinatorFixture.Version(Protocol.Git, DateTimeOffset.UnixEpoch.AddDays(20000), new string('a', 40)) } },
            CoordinatorFixture.With(key, login.SessionId));
        Assert.Equal(new string('a', 40), c.Directory.Find(key.KeyId)!.VersionOf(Protocol.Git)!.Commit);

        await c.Sessions.LogoutAsync(new(), CoordinatorFixture.With(key, login.SessionId));
        Assert.Null(c.Directory.Find(key.KeyId));
    }

    [Fact]
    public async Task Second_login_supersedes_the_first_and_only_the_live_session_of_the_key_can_act()
    {
        await using var c = await CoordinatorFixture.StartAsync();
        var key = await c.RegisterAsync();
        var other = await c.RegisterAsync();
        var first = await c.Sessions.LoginAsync(CoordinatorFixture.Login(9), CoordinatorFixture.With(key));
        var second = await c.Sessions.LoginAsync(CoordinatorFixture.Login(9), CoordinatorFixture.With(key));
        var others = await c.Sessions.LoginAsync(CoordinatorFixture.Login(9), CoordinatorFixture.With(other));
        Assert.NotEqual(first.SessionId, second.SessionId);

        // The superseded session stops working.
        await Refused.WithAsync(StatusCode.FailedPrecondition, RefusalCause.SessionSuperseded, () => c.Sessions.ReportVersionAsync(new(), CoordinatorFixture.With(key, first.SessionId)).ResponseAsync);
        await Refused.WithAsync(StatusCode.FailedPrecondition, RefusalCause.SessionSuperseded, () => c.Sessions.LogoutAsync(new(), CoordinatorFixture.With(key, first.SessionId)).ResponseAsync);

        // Another key presenting this key's live session id cannot touch it, nor the other way round.
        await Refused.WithAsync(StatusCode.FailedPrecondition, RefusalCause.SessionSuperseded, () => c.Sessions.LogoutAsync(new(), CoordinatorFixture.With(other, second.SessionId)).ResponseAsync);
        await Refused.WithAsync(StatusCode.FailedPrecondition, RefusalCause.SessionSuperseded, () => c.Sessions.LogoutAsync(new(), CoordinatorFixture.With(key, others.SessionId)).ResponseAsync);
        Assert.Equal(second.SessionId, c.Directory.Find(key.KeyId)!.SessionId);
        Assert.Equal(others.SessionId, c.Directory.Find(other.KeyId)!.SessionId);

        // A session id without a key, or with a forged secret, is nothing.
        await Refused.WithAsync(StatusCode.Unauthenticated, RefusalCause.UnknownKey, () =>
            c.Sessions.LogoutAsync(new(), new CallOptions(new Metadata { { Credentials.SessionHeader, second.SessionId } })).ResponseAsync);
        await Refused.WithAsync(StatusCode.Unauthenticated, RefusalCause.UnknownKey, () =>
            c.Sessions.LogoutAsync(new(), new CallOptions(Credentials.ForKey(key.KeyId, new string('1', 64), second.SessionId))).ResponseAsync);
        var missing = await Assert.ThrowsAsync<RpcException>(() => c.Sessions.LogoutAsync(new(), CoordinatorFixture.With(key)).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, missing.StatusCode);

        await c.Sessions.LogoutAsync(new(), CoordinatorFixture.With(key, second.SessionId));
        await Refused.WithAsync(StatusCode.FailedPrecondition, RefusalCause.SessionSuperseded, () => c.Sessions.ReportVersionAsync(new(), CoordinatorFixture.With(key, second.SessionId)).ResponseAsync);
    }

    public static TheoryData<string, Action<LoginRequest>> BadLogins => new()
    {
        { "endpoints", r => r.Endpoints = null },
        { "at least one", r => { r.Endpoints.RsyncUri = string.Empty; r.Endpoints.GitUri = string.Empty; } },
        { "rsync_uri", r => r.Endpoints.RsyncUri = "http://127.0.0.1/gentoo-portage" },
        { "rsync_uri", r => r.Endpoints.RsyncUri = "rsync://127.0.0.1" },
        { "rsync_uri", r => r.Endpoints.RsyncUri = "not a uri" },
        { "git_uri", r => r.Endpoints.GitUri = "git://user@127.0.0.1/gentoo.git" },
        { "git_uri", r => r.Endpoints.GitUri = "ssh://127.0.0.1/gentoo.git" },
        { "ping_address", r => r.Endpoints.PingAddress = "127.0.0.1" },
        { "ping_address", r => r.Endpoints.PingAddress = "127.0.0.1:0" },
        { "ping_address", r => r.Endpoints.PingAddress = "127.0.0.1:70000" },
        { "ping_address", r => r.Endpoints.PingAddress = "mirror.example:7472" },
        { "max_clients", r => r.Limits.MaxClients = 0 },
        { "max_clients", r => r.Limits = null },
        { "versions", r => r.Versions.Add(CoordinatorFixture.Version(Protocol.Rsync, DateTimeOffset.UnixEpoch)) },
        { "versions", r => r.Versions.Add(new TreeVersion { Protocol = Protocol.Git }) },
        { "versions", r => r.Versions.Add(new TreeVersion { Protocol = Protocol.Unspecified, Generated = new() }) },
        { "software", r => r.Software = new string('x', 300) },
    };

    [Theory]
    [MemberData(nameof(BadLogins))]
    public async Task Malformed_login_is_invalid_argument_naming_the_field(string field, Action<LoginRequest> spoil)
    {
        await using var c = await CoordinatorFixture.StartAsync();
        var key = await c.RegisterAsync();
        var request = CoordinatorFixture.Login(7472);
        spoil(request);
        var e = await Assert.ThrowsAsync<RpcException>(() => c.Sessions.LoginAsync(request, CoordinatorFixture.With(key)).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Contains(field, e.Status.Detail, StringComparison.Ordinal);
        Assert.Null(c.Directory.Find(key.KeyId));
    }

    [Fact]
    public async Task Ping_address_of_a_third_party_is_refused_unless_the_policy_allows_any()
    {
        await using (var strict = await CoordinatorFixture.StartAsync())
        {
            var key = await strict.RegisterAsync();
            var e = await Assert.ThrowsAsync<RpcException>(() => strict.Sessions.LoginAsync(CoordinatorFixture.Login(7472, "192.0.2.7"), CoordinatorFixture.With(key)).ResponseAsync);
            Assert.Equal(StatusCode.PermissionDenied, e.StatusCode);
            Assert.Contains("ping_address", e.Status.Detail, StringComparison.Ordinal);
        }

        await using var lab = await CoordinatorFixture.StartAsync(o => o.Sessions.PingAddressPolicy = PingAddressPolicy.Any);
        var labKey = await lab.RegisterAsync();
        var request = CoordinatorFixture.Login(7472, "192.0.2.7");
        request.Endpoints.PingAddress = "mirror.example:7472";
        await lab.Sessions.LoginAsync(request, CoordinatorFixture.With(labKey));
        Assert.Equal("mirror.example:7472", lab.Directory.Find(labKey.KeyId)!.Endpoints.PingAddress);
    }

    [Fact]
    public async Task Oversized_request_is_refused_and_the_server_keeps_serving()
    {
        await using var c = await CoordinatorFixture.StartAsync();
        var key = await c.RegisterAsync();
        var request = CoordinatorFixture.Login(9);
        request.Software = new string('x', 5 * 1024 * 1024);
        using var big = GrpcChannels.Create(c.PublicAddress, new ChannelSettings { MaxSendMessageSize = 16 * 1024 * 1024 });
        var e = await Assert.ThrowsAsync<RpcException>(() => new SessionsClient(big).LoginAsync(request, CoordinatorFixture.With(key)).ResponseAsync);
        Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
        var register = await Assert.ThrowsAsync<RpcException>(() => new RegistryClient(big).RegisterAsync(new RegisterRequest { Software = new string('y', 4 * 1024 * 1024 + 1) }).ResponseAsync);
        Assert.Equal(StatusCode.ResourceExhausted, register.StatusCode);
        await c.Sessions.LoginAsync(CoordinatorFixture.Login(9), CoordinatorFixture.With(key));
    }
}
