using AdHocMirror.Coordinator.Storage;
using AdHocMirror.Testing;

namespace AdHocMirror.Coordinator.Tests.Storage;

/// <summary>The store contract on a private PostgreSQL cluster, and what only the shared store promises.</summary>
public sealed class PostgresCoordinatorStoreTests(PostgresServer server) : CoordinatorStoreContract, IClassFixture<PostgresServer>
{
    private string _connectionString = string.Empty;

    [SkippableFact]
    public async Task Coordinators_on_one_database_agree_on_each_reveal_window_secret_and_forget_old_windows()
    {
        using var first = (PostgresCoordinatorStore)await OpenFreshAsync();
        using var second = new PostgresCoordinatorStore(_connectionString);
        await second.OpenAsync();

        var kept = await first.GetOrAddRevealSecretAsync(100, [1, 2, 3]);
        Assert.Equal([1, 2, 3], kept);
        Assert.Equal([1, 2, 3], await second.GetOrAddRevealSecretAsync(100, [9, 9, 9]));
        Assert.Equal([7], await second.GetOrAddRevealSecretAsync(101, [7]));
        Assert.Equal([7], await first.GetOrAddRevealSecretAsync(101, [8]));

        // Two windows on, the oldest is gone: the next proposal for it would be taken afresh.
        await first.GetOrAddRevealSecretAsync(102, [5]);
        Assert.Equal("101,102", (await server.PsqlAsync("SELECT string_agg(number::text, ',' ORDER BY number) FROM reveal_windows", Database())).Stdout.Trim());
    }

    [SkippableFact]
    public async Task Coordinators_racing_to_create_a_window_secret_all_get_the_one_stored()
    {
        using var opened = (PostgresCoordinatorStore)await OpenFreshAsync();
        var stores = new List<PostgresCoordinatorStore>();
        try
        {
            for (var i = 0; i < 8; i++)
            {
                var store = new PostgresCoordinatorStore(_connectionString);
                stores.Add(store);
                await store.OpenAsync();
            }

            // Several rounds, each a new window that nobody has yet: every store proposes its own secret at once.
            for (var window = 500L; window < 510; window++)
            {
                var w = window;
                var got = await Task.WhenAll(stores.Select((s, i) => Task.Run(() => s.GetOrAddRevealSecretAsync(w, [(byte)i, (byte)w]))));
                var agreed = got[0];
                Assert.All(got, g => Assert.Equal(agreed, g));
                Assert.Equal((byte)w, agreed[1]);
                Assert.Equal(Convert.ToHexStringLower(agreed), (await server.PsqlAsync($"SELECT encode(secret, 'hex') FROM reveal_windows WHERE number = {w}", Database())).Stdout.Trim());
            }
        }
        finally
        {
            stores.ForEach(s => s.Dispose());
        }
    }

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
