using AdHocMirror.Contracts;
using AdHocMirror.Contracts.V1;
using AdHocMirror.Daemon.Configuration;
using AdHocMirror.Daemon.Enrolment;
using AdHocMirror.Daemon.Session;
using AdHocMirror.Daemon.Tests.Support;
using AdHocMirror.Testing;
using Grpc.Core;
using Microsoft.Extensions.Logging.Abstractions;
using MirrorState = AdHocMirror.Daemon.Status.MirrorState;

namespace AdHocMirror.Daemon.Tests.Enrolment;

/// <summary>Key life against a real coordinator; the daemon's own clock is moved by hand.</summary>
public sealed class KeyEnrolmentTests : IAsyncLifetime
{
    private readonly TempDir _temp = new("ahm-enrol");
    private TestCoordinator _coordinator = null!;

    public async Task InitializeAsync()
    {
        _coordinator = new TestCoordinator(_temp.Combine("coordinator"));
        await _coordinator.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _coordinator.DisposeAsync();
        _temp.Dispose();
    }

    private (KeyEnrolment Enrolment, CoordinatorConnection Connection, ManualClock Clock) Create(DaemonOptions? options = null)
    {
        options ??= new DaemonOptions { Coordinator = new Uri(_coordinator.Url), StateDir = _temp.Combine("state") };
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        var connection = new CoordinatorConnection(options);
        return (new KeyEnrolment(options, connection, new MirrorState(clock), clock, NullLogger<KeyEnrolment>.Instance), connection, clock);
    }

    [Fact]
    public async Task Registers_once_and_reuses_the_stored_key_across_starts()
    {
        var (first, c1, _) = Create();
        using var _1 = c1;
        var key = await first.EnsureAsync(CancellationToken.None);
        Assert.Equal(32, key.KeyId.Length);
        var (second, c2, _) = Create();
        using var _2 = c2;
        Assert.Equal(key, await second.EnsureAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Rotates_at_two_thirds_of_its_life_and_the_new_key_is_accepted()
    {
        var (enrolment, connection, clock) = Create();
        using var _ = connection;
        var key = await enrolment.EnsureAsync(CancellationToken.None);
        clock.Advance(TimeSpan.FromDays(19));
        Assert.Same(key, await enrolment.RotateIfDueAsync(CancellationToken.None));
        clock.Advance(TimeSpan.FromDays(1.5));
        var rotated = await enrolment.RotateIfDueAsync(CancellationToken.None);
        Assert.NotEqual(key.KeyId, rotated.KeyId);
        Assert.Equal(rotated, new KeyFile(_temp.Combine("state", "key")).Load());

        // The old key is retired at once; the new one works.
        var old = await Assert.ThrowsAsync<RpcException>(() => connection.Registry.RotateKeyAsync(new RotateKeyRequest(), CoordinatorConnection.Call(key)).ResponseAsync);
        Assert.Equal(RefusalKind.KeyRefused, Refusal.Classify(old));
        var keys = await _coordinator.Admin.ListKeysAsync(new ListKeysRequest { IncludeTombstones = true });
        Assert.Contains(keys.Keys, k => k.KeyId == rotated.KeyId && k.State == KeyState.Live);
    }

    [Fact]
    public async Task A_key_older_than_its_lifetime_by_our_own_clock_is_dropped_and_replaced()
    {
        var (enrolment, connection, clock) = Create();
        using var _ = connection;
        var key = await enrolment.EnsureAsync(CancellationToken.None);
        clock.Advance(TimeSpan.FromDays(31));
        var fresh = await enrolment.EnsureAsync(CancellationToken.None);
        Assert.NotEqual(key.KeyId, fresh.KeyId);
    }

    [Fact]
    public async Task Dropped_and_damaged_keys_lead_to_a_new_registration()
    {
        var (enrolment, connection, _) = Create();
        using var _1 = connection;
        var key = await enrolment.EnsureAsync(CancellationToken.None);
        enrolment.Drop(key, "test");
        Assert.False(File.Exists(_temp.Combine("state", "key")));
        Assert.NotEqual(key.KeyId, (await enrolment.EnsureAsync(CancellationToken.None)).KeyId);

        await File.WriteAllTextAsync(_temp.Combine("state", "key"), "garbage");
        var (restarted, c2, _) = Create();
        using var _2 = c2;
        Assert.Equal(32, (await restarted.EnsureAsync(CancellationToken.None)).KeyId.Length);
    }

    [Fact]
    public async Task A_blacklisted_network_is_reported_as_banned_at_registration()
    {
        await _coordinator.Admin.BlacklistNetworkAsync(new BlacklistNetworkRequest { Prefix = "127.0.0.0/8", Reason = "abuse from this lab" });
        var (enrolment, connection, _) = Create();
        using var _1 = connection;
        var e = await Assert.ThrowsAsync<MirrorBannedException>(() => enrolment.EnsureAsync(CancellationToken.None));
        Assert.Contains("abuse from this lab", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(StatusCode.PermissionDenied, RefusalCause.Blacklisted, RefusalKind.Banned)]
    [InlineData(StatusCode.PermissionDenied, RefusalCause.NetworkBlacklisted, RefusalKind.Banned)]
    [InlineData(StatusCode.PermissionDenied, RefusalCause.Revoked, RefusalKind.KeyRefused)]
    [InlineData(StatusCode.Unauthenticated, RefusalCause.Expired, RefusalKind.KeyRefused)]
    [InlineData(StatusCode.Unauthenticated, RefusalCause.UnknownKey, RefusalKind.KeyRefused)]
    [InlineData(StatusCode.Unauthenticated, RefusalCause.Corrupt, RefusalKind.KeyRefused)]
    [InlineData(StatusCode.FailedPrecondition, RefusalCause.SessionSuperseded, RefusalKind.SessionLost)]
    [InlineData(StatusCode.ResourceExhausted, RefusalCause.RateLimited, RefusalKind.RateLimited)]
    [InlineData(StatusCode.Unavailable, RefusalCause.Unspecified, RefusalKind.Transient)]
    [InlineData(StatusCode.InvalidArgument, RefusalCause.Unspecified, RefusalKind.Rejected)]
    public void Refusals_are_classified_by_their_trailer_first(StatusCode code, RefusalCause cause, RefusalKind expected)
    {
        var e = cause == RefusalCause.Unspecified ? new RpcException(new Grpc.Core.Status(code, "x")) : Credentials.Refuse(code, cause, "x");
        Assert.Equal(expected, Refusal.Classify(e));
    }
}
