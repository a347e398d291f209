using AdHocMirror.Contracts.V1;
using AdHocMirror.Coordinator.Hosting;
using AdHocMirror.Coordinator.Tests.Edge;
using AdHocMirror.Coordinator.Tests.Support;
using AdHocMirror.Testing;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Data.Sqlite;

namespace AdHocMirror.Coordinator.Tests.Sessions;

/// <summary>Sessions stored before a rule existed are checked again when a coordinator restores them.</summary>
public sealed class StoredSessionTests
{
    [Fact]
    public async Task A_restart_drops_stored_sessions_that_todays_rules_refuse_and_keeps_the_rest()
    {
        using var dir = new TempDir("ahm-stored");
        string good, zombie, unreadable;
        await using (var c = await CoordinatorFixture.StartAsync(dataDir: dir.Path))
        {
            good = await LoginAsync(c, 9);
            zombie = await LoginAsync(c, 10);
            unreadable = await LoginAsync(c, 11);
        }

        // What a coordinator before issue 21 stored: a version no clock can hold, and a row nobody can parse.
        var spoiled = CoordinatorFixture.Login(10);
        spoiled.Versions[0].Generated = new Timestamp { Seconds = 1L << 62 };
        Rewrite(dir.Path, zombie, spoiled.ToByteArray());
        Rewrite(dir.Path, unreadable, [0xff, 0xff, 0xff]);

        await using (var c = await CoordinatorFixture.StartAsync(dataDir: dir.Path))
        {
            Assert.NotNull(c.Directory.Find(good));
            Assert.Null(c.Directory.Find(zombie));
            Assert.Null(c.Directory.Find(unreadable));
            var mirrors = await c.Admin.ListMirrorsAsync(new());
            Assert.Equal(good, Assert.Single(mirrors.Mirrors).KeyId);
            AdminRender.All(mirrors);
        }

        Assert.Equal([good], StoredKeys(dir.Path)); // dropped from the store, not only skipped
    }

    private static async Task<string> LoginAsync(CoordinatorFixture c, int pingPort)
    {
        var key = await c.RegisterAsync();
        await c.Sessions.LoginAsync(CoordinatorFixture.Login(pingPort), CoordinatorFixture.With(key));
        return key.KeyId;
    }

    private static void Rewrite(string dataDir, string keyId, byte[] login)
    {
        using var db = Open(dataDir);
        using var command = db.CreateCommand();
        command.CommandText = "UPDATE sessions SET login = $login WHERE key_id = $k";
        command.Parameters.AddWithValue("$login", login);
        command.Parameters.AddWithValue("$k", keyId);
        Assert.Equal(1, command.ExecuteNonQuery());
    }

    private static List<string> StoredKeys(string dataDir)
    {
        using var db = Open(dataDir);
        using var command = db.CreateCommand();
        command.CommandText = "SELECT key_id FROM sessions";
        using var reader = command.ExecuteReader();
        var keys = new List<string>();
        while (reader.Read())
        {
            keys.Add(reader.GetString(0));
        }

        return keys;
    }

    private static SqliteConnection Open(string dataDir)
    {
        var db = new SqliteConnection($"Data Source={Path.Combine(dataDir, CoordinatorOptions.DatabaseFileName)};Pooling=false");
        db.Open();
        return db;
    }
}
