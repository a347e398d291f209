using AdHocMirror.Contracts;
using AdHocMirror.Contracts.V1;
using AdHocMirror.Coordinator.Tests.Support;
using Grpc.Core;

namespace AdHocMirror.Coordinator.Tests.Keys;

public sealed class KeyLifecycleTests
{
    [Fact]
    public async Task Register_issues_random_hex_id_and_secret_expiring_after_the_lifetime()
    {
        await using var c = await CoordinatorFixture.StartAsync();
        var a = await c.RegisterAsync();
        var b = await c.RegisterAsync();
        Assert.Matches("^[0-9a-f]{32}$", a.KeyId);
        Assert.Matches("^[0-9a-f]{64}$", a.Secret);
        Assert.NotEqual(a.KeyId, b.KeyId);
        Assert.NotEqual(a.Secret, b.Secret);
        Assert.Equal(TimeSpan.FromDays(30), a.ExpiresAt.ToDateTimeOffset() - a.IssuedAt.ToDateTimeOffset());
        Assert.Equal(c.Clock.GetUtcNow(), a.IssuedAt.ToDateTimeOffset());

        // Only a hash of the secret is kept: the database file never contains it.
        await c.StopAsync();
        var bytes = await File.ReadAllBytesAsync(c.Options.DatabasePath);
        var wal = File.Exists(c.Options.DatabasePath + "-wal") ? await File.ReadAllBytesAsync(c.Options.DatabasePath + "-wal") : [];
        var text = System.Text.Encoding.ASCII.GetString([.. bytes, .. wal]);
        Assert.DoesNotContain(a.Secret, text, StringComparison.Ordinal);
        Assert.Contains(a.KeyId, text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Wrong_secret_unknown_key_and_malformed_credentials_are_unauthenticated()
    {
        await using var c = await CoordinatorFixture.StartAsync();
        var key = await c.RegisterAsync();
        var wrong = new RegisterReply { KeyId = key.KeyId, Secret = new string('0', 64) };
        await Refused.WithAsync(StatusCode.Unauthenticated, RefusalCause.UnknownKey, () => c.Registry.RotateKeyAsync(new(), CoordinatorFixture.With(wrong)).ResponseAsync);
        var unknown = new RegisterReply { KeyId = new string('a', 32), Secret = key.Secret };
        await Refused.WithAsync(StatusCode.Unauthenticated, RefusalCause.UnknownKey, () => c.Registry.RotateKeyAsync(new(), CoordinatorFixture.With(unknown)).ResponseAsync);
        foreach (var header in new[] { "Bearer nodot", "Bearer .x", "Bearer abc.def", $"Bearer {key.KeyId}.{key.Secret.ToUpperInvariant()}", "Basic xyz", "Bearer " + key.KeyId + "." + key.Secret + "00" })
        {
            var e = await Refused.WithAsync(StatusCode.Unauthenticated, RefusalCause.UnknownKey, () =>
                c.Registry.RotateKeyAsync(new(), new CallOptions(new Metadata { { "authorization", header } })).ResponseAsync);
            Assert.False(string.IsNullOrEmpty(e.Status.Detail));
        }

        await Refused.WithAsync(StatusCode.Unauthenticated, RefusalCause.UnknownKey, () => c.Registry.RotateKeyAsync(new()).ResponseAsync);
    }

    [Fact]
    public async Task Key_expires_after_its_lifetime_and_housekeeping_records_it()
    {
        await using var c = await CoordinatorFixture.StartAsync(o => o.Keys.IdleLimit = TimeSpan.FromDays(60));
        var key = await c.RegisterAsync();
        c.Clock.Advance(TimeSpan.FromDays(29));
        await c.Sessions.LoginAsync(CoordinatorFixture.Login(9), CoordinatorFixture.With(key)); // a day before expiry the key works

        c.Clock.Advance(TimeSpan.FromDays(1));
        var e = await Refused.WithAsync(StatusCode.Unauthenticated, RefusalCause.Expired, () => c.Registry.RotateKeyAsync(new(), CoordinatorFixture.With(key)).ResponseAsync);
        Assert.Contains("expired", e.Status.Detail, StringComparison.Ordinal);

        await c.AdvanceUntilAsync(
            async () => (await c.Admin.ListAuditAsync(new())).Entries.Any(a => a.Action == "expire" && a.Subject == key.KeyId && a.Actor == "system"),
            TimeSpan.FromHours(1), "housekeeping audits the expiry");
        var keys = await c.Admin.ListKeysAsync(new() { IncludeTombstones = true });
        Assert.Equal(KeyState.Expired, keys.Keys.Single(k => k.KeyId == key.KeyId).State);
        Assert.DoesNotContain(key.KeyId, (await c.Admin.ListKeysAsync(new())).Keys.Select(k => k.KeyId));
    }

    [Fact]
    public async Task Rotation_retires_the_old_key_at_once_and_the_new_one_works()
    {
        await using var c = await CoordinatorFixture.StartAsync(o => o.Keys.IdleLimit = TimeSpan.FromDays(60));
        var old = await c.RegisterAsync();
        c.Clock.Advance(TimeSpan.FromDays(20));
        var fresh = await c.Registry.RotateKeyAsync(new(), CoordinatorFixture.With(old));
        Assert.NotEqual(old.KeyId, fresh.KeyId);
        Assert.Equal(c.Clock.GetUtcNow() + TimeSpan.FromDays(30), fresh.ExpiresAt.ToDateTimeOffset());
        await Refused.WithAsync(StatusCode.Unauthenticated, RefusalCause.UnknownKey, () => c.Registry.RotateKeyAsync(new(), CoordinatorFixture.With(old)).ResponseAsync);

        c.Clock.Advance(TimeSpan.FromDays(20)); // past the old key's expiry, not the new one's
        var again = await c.Registry.RotateKeyAsync(new(), CoordinatorFixture.With(fresh));
        Assert.Matches("^[0-9a-f]{32}$", again.KeyId);
        var keys = (await c.Admin.ListKeysAsync(new() { IncludeTombstones = true })).Keys;
        Assert.Equal(KeyState.Retired, keys.Single(k => k.KeyId == old.KeyId).State);
        Assert.Equal(KeyState.Live, keys.Single(k => k.KeyId == again.KeyId).State);
    }

    [Fact]
    public async Task Retired_key_is_refused_and_a_new_registration_works()
    {
        await using var c = await CoordinatorFixture.StartAsync();
        var key = await c.RegisterAsync();
        await c.Registry.RetireKeyAsync(new(), CoordinatorFixture.With(key));
        await Refused.WithAsync(StatusCode.Unauthenticated, RefusalCause.UnknownKey, () => c.Registry.RetireKeyAsync(new(), CoordinatorFixture.With(key)).ResponseAsync);
        var next = await c.RegisterAsync();
        await c.Registry.RotateKeyAsync(new(), CoordinatorFixture.With(next));
    }

    [Fact]
    public async Task Dormant_keys_are_revoked_least_recently_used_first_and_tombstones_purged_after_cool_off()
    {
        await using var c = await CoordinatorFixture.StartAsync(o =>
        {
            o.Keys.IdleLimit = TimeSpan.FromDays(7);
            o.Keys.DormantBatch = 1;
        });
        var idle = await c.RegisterAsync();
        var idleToo = await c.RegisterAsync();
        var busy = await c.RegisterAsync();
        c.Clock.Advance(TimeSpan.FromDays(1));
        await c.Registry.RotateKeyAsync(new(), CoordinatorFixture.With(await c.RegisterAsync())); // unrelated traffic
        await c.Sessions.LoginAsync(CoordinatorFixture.Login(9), CoordinatorFixture.With(idleToo)); // used a day later than idle
        for (var day = 0; day < 7; day++)
        {
            c.Clock.Advance(TimeSpan.FromDays(1));
            busy = await c.Registry.RotateKeyAsync(new(), CoordinatorFixture.With(busy)); // use keeps a key alive
        }

        // One per pass (DormantBatch = 1), least recently used first.
        await c.AdvanceUntilAsync(
            async () => (await c.Admin.ListAuditAsync(new())).Entries.Count(a => a.Action == "revoke-dormant") >= 2,
            TimeSpan.FromHours(1), "both dormant keys are revoked");
        var revoked = (await c.Admin.ListAuditAsync(new())).Entries.Where(a => a.Action == "revoke-dormant").Reverse().ToList();
        Assert.Equal([idle.KeyId, idleToo.KeyId], revoked.Select(a => a.Subject).Take(2));
        Assert.All(revoked, a => Assert.Equal("system", a.Actor));

        var e = await Refused.WithAsync(StatusCode.PermissionDenied, RefusalCause.Revoked, () => c.Registry.RotateKeyAsync(new(), CoordinatorFixture.With(idleToo)).ResponseAsync);
        Assert.Contains("dormant", e.Status.Detail, StringComparison.Ordinal);
        busy = await c.Registry.RotateKeyAsync(new(), CoordinatorFixture.With(busy));

        // The tombstone stays through the cool-off (90 days from the revocation), then goes.
        var keys = (await c.Admin.ListKeysAsync(new() { IncludeTombstones = true })).Keys;
        Assert.Equal(KeyState.Revoked, keys.Single(k => k.KeyId == idle.KeyId).State);
        var revokedAt = revoked[0].At.ToDateTimeOffset();
        c.Clock.Advance(revokedAt + TimeSpan.FromDays(90) - TimeSpan.FromHours(2) - c.Clock.GetUtcNow());
        await c.AdvanceUntilAsync(() => true, TimeSpan.FromMinutes(1), "time passes");
        Assert.Contains(idle.KeyId, (await c.Admin.ListKeysAsync(new() { IncludeTombstones = true })).Keys.Select(k => k.KeyId));
        await c.AdvanceUntilAsync(
            async () => !(await c.Admin.ListKeysAsync(new() { IncludeTombstones = true })).Keys.Any(k => k.KeyId == idle.KeyId),
            TimeSpan.FromHours(1), "the tombstone is purged after the cool-off");
        Assert.True(c.Clock.GetUtcNow() >= revokedAt + TimeSpan.FromDays(90));
        Assert.Contains((await c.Admin.ListAuditAsync(new() { Limit = 1000 })).Entries, a => a.Action == "purge-tombstone" && a.Subject == idle.KeyId && a.Actor == "system");
        // A purged id is simply unknown.
        await Refused.WithAsync(StatusCode.Unauthenticated, RefusalCause.UnknownKey, () => c.Registry.RotateKeyAsync(new(), CoordinatorFixture.With(idle)).ResponseAsync);
    }
}
