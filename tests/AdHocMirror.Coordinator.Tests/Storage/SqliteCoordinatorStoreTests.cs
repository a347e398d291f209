using AdHocMirror.Coordinator.Storage;
using AdHocMirror.Testing;
using Microsoft.Data.Sqlite;

namespace AdHocMirror.Coordinator.Tests.Storage;

/// <summary>The store contract on SQLite, and what only the SQLite store promises (WAL, user_version).</summary>
public sealed class SqliteCoordinatorStoreTests : CoordinatorStoreContract, IDisposable
{
    private readonly TempDir _dir = new();
    private string _path = string.Empty;

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task First_open_creates_a_wal_database_at_the_current_schema_version_and_reopening_is_a_no_op()
    {
        using (var store = await OpenFreshAsync())
        {
            Assert.True(await store.InsertKeyAsync(Key("a"), null));
        }

        using (var store = await ReopenAsync())
        {
            Assert.Equal("a", Assert.Single(await store.LoadKeysAsync()).KeyId);
        }

        using var raw = new SqliteConnection($"Data Source={_path};Pooling=false");
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
        var path = _dir.Combine("newer.db");
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

    protected override async Task<ICoordinatorStore> OpenFreshAsync()
    {
        _path = _dir.Combine($"{Guid.NewGuid():N}.db");
        return await ReopenAsync();
    }

    protected override async Task<ICoordinatorStore> ReopenAsync()
    {
        var store = new SqliteCoordinatorStore(_path);
        await store.OpenAsync();
        return store;
    }
}
