using AdHocMirror.Coordinator.Storage;
using AdHocMirror.Testing;
using Microsoft.Data.Sqlite;

namespace AdHocMirror.Coordinator.Tests.Storage;

public sealed class SqliteCoordinatorStoreTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task First_open_creates_a_wal_database_at_the_current_schema_version_and_reopening_is_a_no_op()
    {
        using var dir = new TempDir();
        var path = dir.Combine("c.db");
        using (var store = new SqliteCoordinatorStore(path))
        {
            await store.OpenAsync();
            Assert.True(await store.InsertKeyAsync(Key("a"), new AuditRecord(T0, "system", "test", "a", "")));
            Assert.False(await store.InsertKeyAsync(Key("a"), null)); // an id is never issued twice
        }

        using (var store = new SqliteCoordinatorStore(path))
        {
            await store.OpenAsync();
            Assert.Equal("a", Assert.Single(await store.LoadKeysAsync()).KeyId);
        }

        using var raw = new SqliteConnection($"Data Source={path}");
        raw.Open();
        using var command = raw.CreateCommand();
        command.CommandText = "PRAGMA journal_mode";
        Assert.Equal("wal", command.ExecuteScalar());
        command.CommandText = "PRAGMA user_version";
        Assert.Equal((long)SqliteCoordinatorStore.SchemaVersion, command.ExecuteScalar());
    }

    [Fact]
    public async Task A_database_from_a_newer_coordinator_is_refused()
    {
        using var dir = new TempDir();
        var path = dir.Combine("c.db");
        using (var raw = new SqliteConnection($"Data Source={path};Pooling=false"))
        {
            raw.Open();
            using var command = raw.CreateCommand();
            command.CommandText = "PRAGMA user_version = 99";
            command.ExecuteNonQuery();
        }

        using var store = new SqliteCoordinatorStore(path);
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => store.OpenAsync());
        Assert.Contains("99", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Key_changes_end_sessions_and_rotation_moves_the_session_to_the_new_key_atomically()
    {
        using var dir = new TempDir();
        using var store = new SqliteCoordinatorStore(dir.Combine("c.db"));
        await store.OpenAsync();
        await store.InsertKeyAsync(Key("a"), null);
        await store.InsertKeyAsync(Key("b"), null);
        await store.SaveSessionAsync(new SessionRecord("a", "s1", "secret", [1, 2], T0, null, null, ""));
        await store.SaveSessionAsync(new SessionRecord("b", "s2", "secret", [3], T0, 1, 2, "here"));

        Assert.True(await store.RotateKeyAsync("a", Key("a2"), T0, null));
        var sessions = await store.LoadSessionsAsync();
        Assert.Equal(["a2", "b"], sessions.Select(s => s.KeyId).Order());
        Assert.Equal(KeyStatus.Retired, (await store.LoadKeysAsync()).Single(k => k.KeyId == "a").Status);

        var auditId = await store.UpdateKeyStateAsync("b", KeyStatus.Revoked, T0, "bad", new AuditRecord(T0, "admin", "revoke", "b", "bad"));
        Assert.True(auditId > 0);
        Assert.Equal("a2", Assert.Single(await store.LoadSessionsAsync()).KeyId);

        var purged = await store.PurgeTombstonesAsync(T0.AddSeconds(1), id => new AuditRecord(T0, "system", "purge-tombstone", id, ""));
        Assert.Equal(["a", "b"], purged.Order());
        Assert.Equal(["a2"], (await store.LoadKeysAsync()).Select(k => k.KeyId));
        Assert.Equal(["purge-tombstone", "purge-tombstone", "revoke"], (await store.ListAuditAsync(10, 0)).Select(a => a.Action));

        await store.TouchKeysAsync([new("a2", T0.AddDays(3))]);
        Assert.Equal(T0.AddDays(3), (await store.LoadKeysAsync()).Single().LastUsedAt);
    }

    private static KeyRecord Key(string id) => new(id, [1, 2, 3], T0, T0.AddDays(30), T0, KeyStatus.Live);
}
