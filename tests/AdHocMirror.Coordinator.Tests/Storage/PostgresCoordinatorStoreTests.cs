using AdHocMirror.Coordinator.Storage;
using AdHocMirror.Testing;

namespace AdHocMirror.Coordinator.Tests.Storage;

/// <summary>The store contract on a private PostgreSQL cluster, and what only the shared store promises.</summary>
public sealed class PostgresCoordinatorStoreTests(PostgresServer server) : CoordinatorStoreContract, IClassFixture<PostgresServer>
{
    private string _connectionString = string.Empty;

    [SkippableFact]
    public async Task Coordinators_starting_at_once_migrate_the_schema_once()
    {
        Skip.If(PostgresServer.SkipReason is not null, PostgresServer.SkipReason);
        _connectionString = server.WithPassword(await server.CreateDatabaseAsync());
        var stores = Enumerable.Range(0, 8).Select(_ => new PostgresCoordinatorStore(_connectionString)).ToList();
        try
        {
            await Task.WhenAll(stores.Select(s => s.OpenAsync()));
            Assert.True(await stores[0].InsertKeyAsync(Key("a"), null));
            Assert.Equal("a", Assert.Single(await stores[7].LoadKeysAsync()).KeyId);
            var versions = await server.PsqlAsync("SELECT string_agg(version::text, ',') FROM ahm_schema", Database());
            Assert.Equal(PostgresCoordinatorStore.SchemaVersion.ToString(System.Globalization.CultureInfo.InvariantCulture), versions.Stdout.Trim());
        }
        finally
        {
            stores.ForEach(s => s.Dispose());
        }
    }

    [SkippableFact]
    public async Task A_database_from_a_newer_coordinator_is_refused()
    {
        (await OpenFreshAsync()).Dispose();
        await server.PsqlAsync("UPDATE ahm_schema SET version = 99", Database());
        using var store = new PostgresCoordinatorStore(_connectionString);
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => store.OpenAsync());
        Assert.Contains("99", e.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task A_database_that_is_away_is_unavailable_not_a_crash()
    {
        Skip.If(PostgresServer.SkipReason is not null, PostgresServer.SkipReason);
        // A port nothing listens on: the same answer as a stopped server.
        using var store = new PostgresCoordinatorStore($"Host=127.0.0.1;Port={FreePort.Next()};Username=x;Password=y;Database=z");
        var e = await Assert.ThrowsAsync<Grpc.Core.RpcException>(() => store.InsertKeyAsync(Key("a"), null));
        Assert.Equal(Grpc.Core.StatusCode.Unavailable, e.StatusCode);
        e = await Assert.ThrowsAsync<Grpc.Core.RpcException>(() => store.OpenAsync());
        Assert.Equal(Grpc.Core.StatusCode.Unavailable, e.StatusCode);
    }

    [SkippableFact]
    public async Task Every_change_writes_a_change_row_in_its_own_transaction_for_the_others_to_follow()
    {
        using var store = (PostgresCoordinatorStore)await OpenFreshAsync();
        var start = await store.LastChangeIdAsync();
        await store.InsertKeyAsync(Key("a"), null);
        await store.SaveSessionAsync(new SessionRecord("a", "s1", "00", [1], T0, null, null, ""));
        await store.PutBlacklistAsync(new BlacklistRecord(BlacklistKind.Network, "192.0.2.0/24", "x", T0, null), new AuditRecord(T0, "admin", "blacklist-network", "192.0.2.0/24", "x"));
        await store.PutQuarantineAsync(new QuarantineRecord("a", "x", T0, 3), new AuditRecord(T0, "system", "quarantine", "a", "x"));
        Assert.False(await store.InsertKeyAsync(Key("a"), null)); // refused: no change row either
        var changes = await store.ReadChangesAsync(start, 100);
        Assert.Equal(
            [(ChangeKind.Key, "a"), (ChangeKind.Session, "a"), (ChangeKind.Blacklist, "2:192.0.2.0/24"), (ChangeKind.Quarantine, "a")],
            changes.Select(c => (c.Kind, c.Subject)));
        Assert.Equal(changes[^1].Id, await store.LastChangeIdAsync());

        await store.PublishMirrorStatesAsync([new MirrorStateRecord("a", "s1", 2, [9], 4, T0, 1.5), new MirrorStateRecord("a", "old-session", 3, [], 0, null, 0)], "c1");
        var shared = await store.LoadSharedSessionAsync("a");
        Assert.Equal((2, 4u, "c1", 1.5), (shared!.State, shared.ActiveConnections, shared.PingedBy, shared.LastPingMs));
        Assert.Equal([9], shared.Versions);
        Assert.Single(await store.ReadChangesAsync(changes[^1].Id, 100)); // only the live session's row changed

        var coordinators = await store.HeartbeatAsync("c1", "http://127.0.0.1:1", "http://127.0.0.1:2", 1);
        Assert.Equal("c1", Assert.Single(coordinators).Id);
        Assert.True(coordinators[0].HeartbeatAge < TimeSpan.FromSeconds(5));
        await store.RemoveCoordinatorsAsync("c1", TimeSpan.Zero);
        Assert.Empty(await store.ListCoordinatorsAsync());
    }

    protected override async Task<ICoordinatorStore> OpenFreshAsync()
    {
        Skip.If(PostgresServer.SkipReason is not null, PostgresServer.SkipReason);
        _connectionString = server.WithPassword(await server.CreateDatabaseAsync());
        return await ReopenAsync();
    }

    protected override async Task<ICoordinatorStore> ReopenAsync()
    {
        var store = new PostgresCoordinatorStore(_connectionString);
        await store.OpenAsync();
        return store;
    }

    private string Database() => _connectionString.Split(';').Single(p => p.StartsWith("Database=", StringComparison.Ordinal))["Database=".Length..];
}
