using AdHocMirror.Coordinator.Storage;

namespace AdHocMirror.Coordinator.Tests.Storage;

/// <summary>
/// The promises of <see cref="ICoordinatorStore"/>, one suite for every store: each subclass opens a
/// fresh store of its kind, and reopens the same database to prove what was acknowledged is there.
/// </summary>
public abstract class CoordinatorStoreContract
{
    protected static readonly DateTimeOffset T0 = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);

    /// <summary>Opens a store on a fresh, empty database.</summary>
    protected abstract Task<ICoordinatorStore> OpenFreshAsync();

    /// <summary>Opens a second store on the database of the last <see cref="OpenFreshAsync"/>.</summary>
    protected abstract Task<ICoordinatorStore> ReopenAsync();

    [SkippableFact]
    public async Task A_key_is_inserted_once_and_survives_a_reopen()
    {
        using (var store = await OpenFreshAsync())
        {
            Assert.True(await store.InsertKeyAsync(Key("a"), new AuditRecord(T0, "system", "test", "a", "")));
            Assert.False(await store.InsertKeyAsync(Key("a"), null)); // an id is never issued twice
        }

        using var again = await ReopenAsync();
        var key = Assert.Single(await again.LoadKeysAsync());
        Assert.Equal(Key("a") with { SecretHash = key.SecretHash }, key);
        Assert.Equal([1, 2, 3], key.SecretHash);
        Assert.Equal("test", Assert.Single(await again.ListAuditAsync(10, 0)).Action);
    }

    [SkippableFact]
    public async Task Key_changes_end_sessions_and_rotation_moves_session_and_quarantine_to_the_new_key()
    {
        using var store = await OpenFreshAsync();
        await store.InsertKeyAsync(Key("a"), null);
        await store.InsertKeyAsync(Key("b"), null);
        await store.SaveSessionAsync(new SessionRecord("a", "s1", "secret", [1, 2], T0, null, null, ""));
        await store.SaveSessionAsync(new SessionRecord("b", "s2", "secret", [3], T0, 1, 2, "here"));
        await store.PutQuarantineAsync(new QuarantineRecord("a", "lied", T0, 3), new AuditRecord(T0, "system", "quarantine", "a", "lied"));

        Assert.True(await store.RotateKeyAsync("a", Key("a2"), T0, null));
        Assert.False(await store.RotateKeyAsync("b", Key("a2"), T0, null)); // the new id is taken: nothing written
        var sessions = await store.LoadSessionsAsync();
        Assert.Equal(["a2", "b"], sessions.Select(s => s.KeyId).Order());
        Assert.Equal(new SessionRecord("b", "s2", "secret", [3], T0, 1, 2, "here") with { Login = sessions.Single(s => s.KeyId == "b").Login }, sessions.Single(s => s.KeyId == "b"));
        Assert.Equal("a2", Assert.Single(await store.LoadQuarantineAsync()).KeyId);
        var retired = (await store.LoadKeysAsync()).Single(k => k.KeyId == "a");
        Assert.Equal((KeyStatus.Retired, T0, "rotated"), (retired.Status, retired.EndedAt!.Value, retired.Reason));
        Assert.Equal(KeyStatus.Live, (await store.LoadKeysAsync()).Single(k => k.KeyId == "b").Status);

        var auditId = await store.UpdateKeyStateAsync("b", KeyStatus.Revoked, T0, "bad", new AuditRecord(T0, "admin", "revoke", "b", "bad"));
        Assert.True(auditId > 0);
        Assert.Equal("a2", Assert.Single(await store.LoadSessionsAsync()).KeyId);
        Assert.Equal(0, await store.UpdateKeyStateAsync("a2", KeyStatus.Expired, T0.AddDays(1), "expired", null));
        Assert.Empty(await store.LoadSessionsAsync());

        var purged = await store.PurgeTombstonesAsync(T0.AddSeconds(1), id => new AuditRecord(T0, "system", "purge-tombstone", id, ""));
        Assert.Equal(["a", "b"], purged.Order());
        Assert.Equal(["a2"], (await store.LoadKeysAsync()).Select(k => k.KeyId));
        Assert.Equal(["purge-tombstone", "purge-tombstone", "revoke", "quarantine"], (await store.ListAuditAsync(10, 0)).Select(a => a.Action));
    }

    [SkippableFact]
    public async Task Last_use_only_moves_forward_and_a_batch_touches_only_known_keys()
    {
        using var store = await OpenFreshAsync();
        await store.InsertKeyAsync(Key("a"), null);
        await store.InsertKeyAsync(Key("b"), null);
        await store.TouchKeysAsync([new("a", T0.AddDays(3)), new("b", T0.AddDays(1)), new("unknown", T0.AddDays(9))]);
        await store.TouchKeysAsync([new("a", T0.AddDays(2))]); // an older view of use from another coordinator
        await store.TouchKeysAsync([]);
        var keys = (await store.LoadKeysAsync()).ToDictionary(k => k.KeyId, k => k.LastUsedAt);
        Assert.Equal(T0.AddDays(3), keys["a"]);
        Assert.Equal(T0.AddDays(1), keys["b"]);
        Assert.Equal(2, keys.Count);
    }

    [SkippableFact]
    public async Task Blacklist_entries_are_replaced_removed_once_and_a_key_entry_ends_its_session()
    {
        using var store = await OpenFreshAsync();
        await store.InsertKeyAsync(Key("a"), null);
        await store.SaveSessionAsync(new SessionRecord("a", "s1", "secret", [1], T0, null, null, ""));
        var first = await store.PutBlacklistAsync(new BlacklistRecord(BlacklistKind.Key, "a", "spam", T0, T0.AddDays(1)), Audit("blacklist-key", "a"));
        var second = await store.PutBlacklistAsync(new BlacklistRecord(BlacklistKind.Key, "a", "worse", T0.AddHours(1), null), Audit("blacklist-key", "a"));
        await store.PutBlacklistAsync(new BlacklistRecord(BlacklistKind.Network, "192.0.2.0/24", "flood", T0, T0.AddDays(90)), Audit("blacklist-network", "192.0.2.0/24"));
        Assert.True(second > first);
        Assert.Empty(await store.LoadSessionsAsync());
        var entries = (await store.LoadBlacklistAsync()).OrderBy(e => e.Kind).ToList();
        Assert.Equal(
            [new BlacklistRecord(BlacklistKind.Key, "a", "worse", T0.AddHours(1), null), new BlacklistRecord(BlacklistKind.Network, "192.0.2.0/24", "flood", T0, T0.AddDays(90))],
            entries);

        Assert.True(await store.RemoveBlacklistAsync(BlacklistKind.Key, "a", Audit("unblacklist-key", "a")) > second);
        Assert.Equal(-1, await store.RemoveBlacklistAsync(BlacklistKind.Key, "a", Audit("unblacklist-key", "a")));
        Assert.Equal(BlacklistKind.Network, Assert.Single(await store.LoadBlacklistAsync()).Kind);
        Assert.Equal(4, (await store.ListAuditAsync(10, 0)).Count); // the refused removal wrote nothing
    }

    [SkippableFact]
    public async Task A_session_is_replaced_by_the_next_login_and_deleted_only_by_its_own_id()
    {
        using var store = await OpenFreshAsync();
        await store.InsertKeyAsync(Key("a"), null);
        await store.SaveSessionAsync(new SessionRecord("a", "s1", "secret1", [1], T0, null, null, ""));
        await store.SaveSessionAsync(new SessionRecord("a", "s2", "secret2", [2, 2], T0.AddMinutes(1), 48.1, 11.6, "Munich"));
        var session = Assert.Single(await store.LoadSessionsAsync());
        Assert.Equal(("s2", "secret2", T0.AddMinutes(1), 48.1, 11.6, "Munich"), (session.SessionId, session.SessionSecret, session.LoggedInAt, session.Latitude!.Value, session.Longitude!.Value, session.Place));
        Assert.Equal([2, 2], session.Login);

        await store.DeleteSessionAsync("a", "s1"); // the superseded session's logout
        Assert.Single(await store.LoadSessionsAsync());
        await store.DeleteSessionAsync("a", "s2");
        Assert.Empty(await store.LoadSessionsAsync());
        await store.DeleteSessionAsync("a", null);
    }

    [SkippableFact]
    public async Task Quarantine_is_put_replaced_and_released_once_each_with_its_audit_entry()
    {
        using var store = await OpenFreshAsync();
        var put = await store.PutQuarantineAsync(new QuarantineRecord("a", "lied", T0, 3), Audit("quarantine", "a"));
        await store.PutQuarantineAsync(new QuarantineRecord("a", "lied again", T0.AddHours(1), 5), Audit("quarantine", "a"));
        Assert.Equal(new QuarantineRecord("a", "lied again", T0.AddHours(1), 5), Assert.Single(await store.LoadQuarantineAsync()));
        Assert.True(await store.RemoveQuarantineAsync("a", Audit("release-quarantine", "a")) > put);
        Assert.Equal(-1, await store.RemoveQuarantineAsync("a", Audit("release-quarantine", "a")));
        Assert.Empty(await store.LoadQuarantineAsync());
        Assert.Equal(["release-quarantine", "quarantine", "quarantine"], (await store.ListAuditAsync(10, 0)).Select(a => a.Action));
    }

    [SkippableFact]
    public async Task The_audit_log_pages_newest_first_with_increasing_ids()
    {
        using var store = await OpenFreshAsync();
        var ids = new List<long>();
        for (var i = 0; i < 7; i++)
        {
            ids.Add(await store.AppendAuditAsync(new AuditRecord(T0.AddSeconds(i), "admin", "note", $"s{i}", $"r{i}")));
        }

        Assert.Equal(ids.Order(), ids);
        var page = await store.ListAuditAsync(3, 0);
        Assert.Equal(["s6", "s5", "s4"], page.Select(a => a.Subject));
        Assert.Equal(new AuditRecord(T0.AddSeconds(6), "admin", "note", "s6", "r6", ids[6]), page[0]);
        Assert.Equal(["s3", "s2", "s1"], (await store.ListAuditAsync(3, page[^1].Id)).Select(a => a.Subject));
        Assert.Equal(["s0"], (await store.ListAuditAsync(3, ids[1])).Select(a => a.Subject));
    }

    protected static KeyRecord Key(string id) => new(id, [1, 2, 3], T0, T0.AddDays(30), T0, KeyStatus.Live);

    private static AuditRecord Audit(string action, string subject) => new(T0, "admin", action, subject, "why");
}
