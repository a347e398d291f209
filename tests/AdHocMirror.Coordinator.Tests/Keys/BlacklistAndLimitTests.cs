using AdHocMirror.Contracts;
using AdHocMirror.Contracts.V1;
using AdHocMirror.Coordinator.Tests.Support;
using Grpc.Core;
using Google.Protobuf.WellKnownTypes;

namespace AdHocMirror.Coordinator.Tests.Keys;

public sealed class BlacklistAndLimitTests
{
    [Fact]
    public async Task Blacklisted_key_is_refused_with_reason_and_end_its_mirror_leaves_and_the_blacklist_ends()
    {
        await using var c = await CoordinatorFixture.StartAsync();
        var key = await c.RegisterAsync();
        var login = await c.Sessions.LoginAsync(CoordinatorFixture.Login(9), CoordinatorFixture.With(key));
        Assert.NotNull(c.Directory.Find(key.KeyId));

        var reply = await c.Admin.BlacklistKeyAsync(new BlacklistKeyRequest { KeyId = key.KeyId, Reason = "served a stale tree", Duration = Duration.FromTimeSpan(TimeSpan.FromDays(90)) });
        Assert.True(reply.AuditId > 0);
        Assert.Null(c.Directory.Find(key.KeyId));

        var e = await Refused.WithAsync(StatusCode.PermissionDenied, RefusalCause.Blacklisted, () =>
            c.Sessions.ReportVersionAsync(new(), CoordinatorFixture.With(key, login.SessionId)).ResponseAsync);
        Assert.Contains("served a stale tree", e.Status.Detail, StringComparison.Ordinal);
        Assert.Contains((c.Clock.GetUtcNow() + TimeSpan.FromDays(90)).UtcDateTime.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), e.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(KeyState.Blacklisted, (await c.Admin.ListKeysAsync(new())).Keys.Single(k => k.KeyId == key.KeyId).State);

        await c.Admin.UnblacklistKeyAsync(new UnblacklistKeyRequest { KeyId = key.KeyId, Reason = "fixed" });
        await c.Sessions.LoginAsync(CoordinatorFixture.Login(9), CoordinatorFixture.With(key));

        // A timed blacklist is lifted by housekeeping when it ends.
        await c.Admin.BlacklistKeyAsync(new BlacklistKeyRequest { KeyId = key.KeyId, Reason = "cool down", Duration = Duration.FromTimeSpan(TimeSpan.FromHours(12)) });
        await Refused.WithAsync(StatusCode.PermissionDenied, RefusalCause.Blacklisted, () => c.Sessions.LoginAsync(CoordinatorFixture.Login(9), CoordinatorFixture.With(key)).ResponseAsync);
        c.Clock.Advance(TimeSpan.FromHours(12));
        await c.AdvanceUntilAsync(async () => (await c.Admin.ListBlacklistAsync(new())).Entries.Count == 0, TimeSpan.FromHours(1), "the blacklist is lifted");
        await c.Sessions.LoginAsync(CoordinatorFixture.Login(9), CoordinatorFixture.With(key));
        var audit = (await c.Admin.ListAuditAsync(new())).Entries;
        Assert.Contains(audit, a => a.Action == "unblacklist-key" && a.Actor == "system" && a.Subject == key.KeyId);
        Assert.Contains(audit, a => a.Action == "unblacklist-key" && a.Actor == "admin" && a.Reason == "fixed");
    }

    [Fact]
    public async Task Blacklisted_network_refuses_registration_and_calls_of_existing_keys()
    {
        await using var c = await CoordinatorFixture.StartAsync();
        var key = await c.RegisterAsync();
        await c.Sessions.LoginAsync(CoordinatorFixture.Login(9), CoordinatorFixture.With(key));
        await c.Admin.BlacklistNetworkAsync(new BlacklistNetworkRequest { Prefix = "127.0.0.0/8", Reason = "fake mirror farm" });
        Assert.Null(c.Directory.Find(key.KeyId));

        var e = await Refused.WithAsync(StatusCode.PermissionDenied, RefusalCause.NetworkBlacklisted, () => c.RegisterAsync());
        Assert.Contains("fake mirror farm", e.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("127.0.0.0/8", e.Status.Detail, StringComparison.Ordinal);
        await Refused.WithAsync(StatusCode.PermissionDenied, RefusalCause.NetworkBlacklisted, () => c.Sessions.LoginAsync(CoordinatorFixture.Login(9), CoordinatorFixture.With(key)).ResponseAsync);

        var list = await c.Admin.ListBlacklistAsync(new());
        Assert.Equal("127.0.0.0/8", Assert.Single(list.Entries).Prefix);
        Assert.Null(list.Entries[0].Until);

        await c.Admin.UnblacklistNetworkAsync(new UnblacklistNetworkRequest { Prefix = "127.0.0.0/8" });
        await c.RegisterAsync();
        await c.Sessions.LoginAsync(CoordinatorFixture.Login(9), CoordinatorFixture.With(key));
    }

    [Fact]
    public async Task Registration_is_rate_limited_per_network_per_hour()
    {
        await using var c = await CoordinatorFixture.StartAsync(o => o.Keys.RegistrationsPerNetworkPerHour = 3);
        for (var i = 0; i < 3; i++)
        {
            await c.RegisterAsync();
        }

        var e = await Refused.WithAsync(StatusCode.ResourceExhausted, RefusalCause.RateLimited, () => c.RegisterAsync());
        Assert.Contains("127.0.0.0/24", e.Status.Detail, StringComparison.Ordinal);
        c.Clock.Advance(TimeSpan.FromMinutes(59));
        await Refused.WithAsync(StatusCode.ResourceExhausted, RefusalCause.RateLimited, () => c.RegisterAsync());
        c.Clock.Advance(TimeSpan.FromMinutes(1));
        await c.RegisterAsync();
        Assert.Equal(2, (await c.Admin.GetStatsAsync(new())).Values[$"ahm_refusals_total{{cause=\"{RefusalCause.RateLimited}\"}}"]);
    }

    [Fact]
    public async Task Live_mirrors_per_address_are_capped()
    {
        await using var c = await CoordinatorFixture.StartAsync(o => o.Keys.MaxMirrorsPerAddress = 2);
        var keys = new List<RegisterReply>();
        for (var i = 0; i < 3; i++)
        {
            keys.Add(await c.RegisterAsync());
        }

        await c.Sessions.LoginAsync(CoordinatorFixture.Login(9), CoordinatorFixture.With(keys[0]));
        await c.Sessions.LoginAsync(CoordinatorFixture.Login(9), CoordinatorFixture.With(keys[1]));
        await c.Sessions.LoginAsync(CoordinatorFixture.Login(9), CoordinatorFixture.With(keys[1])); // a re-login is not a new mirror
        await Refused.WithAsync(StatusCode.ResourceExhausted, RefusalCause.RateLimited, () => c.Sessions.LoginAsync(CoordinatorFixture.Login(9), CoordinatorFixture.With(keys[2])).ResponseAsync);
        await Refused.WithAsync(StatusCode.ResourceExhausted, RefusalCause.RateLimited, () => c.RegisterAsync());
    }

    [Fact]
    public async Task Revoked_key_is_refused_with_its_reason_and_its_mirror_leaves()
    {
        await using var c = await CoordinatorFixture.StartAsync();
        var key = await c.RegisterAsync();
        await c.Sessions.LoginAsync(CoordinatorFixture.Login(9), CoordinatorFixture.With(key));
        await c.Admin.RevokeKeyAsync(new RevokeKeyRequest { KeyId = key.KeyId, Reason = "operator asked" });
        Assert.Null(c.Directory.Find(key.KeyId));
        var e = await Refused.WithAsync(StatusCode.PermissionDenied, RefusalCause.Revoked, () => c.Sessions.LoginAsync(CoordinatorFixture.Login(9), CoordinatorFixture.With(key)).ResponseAsync);
        Assert.Contains("operator asked", e.Status.Detail, StringComparison.Ordinal);

        var unknown = await Assert.ThrowsAsync<RpcException>(() => c.Admin.RevokeKeyAsync(new RevokeKeyRequest { KeyId = new string('b', 32) }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);
        var malformed = await Assert.ThrowsAsync<RpcException>(() => c.Admin.RevokeKeyAsync(new RevokeKeyRequest { KeyId = "xyz" }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, malformed.StatusCode);
    }
}
