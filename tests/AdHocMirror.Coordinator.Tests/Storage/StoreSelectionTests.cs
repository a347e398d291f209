using AdHocMirror.Coordinator.Storage;
using AdHocMirror.Hosting;
using AdHocMirror.Testing;
using Npgsql;

namespace AdHocMirror.Coordinator.Tests.Storage;

public sealed class StoreSelectionTests
{
    [Fact]
    public void Without_a_store_setting_the_coordinator_keeps_its_sqlite_file()
    {
        using var dir = new TempDir();
        using var store = StoreSelection.Create(null, null, dir.Combine("c.db"));
        Assert.IsType<SqliteCoordinatorStore>(store);
        Assert.False(StoreSelection.IsShared(" "));
    }

    [Fact]
    public void A_url_becomes_a_connection_string_with_the_password_from_its_file()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.Combine("pw"), "s3cr;et\n");
        var built = new NpgsqlConnectionStringBuilder(StoreSelection.ConnectionString("postgres://ahm@db.example:6543/swarm?sslmode=require", dir.Combine("pw")));
        Assert.Equal(("db.example", 6543, "ahm", "swarm", "s3cr;et", SslMode.Require), (built.Host, built.Port, built.Username, built.Database, built.Password, built.SslMode));

        built = new NpgsqlConnectionStringBuilder(StoreSelection.ConnectionString("Host=10.0.0.5;Username=ahm;Database=swarm", null));
        Assert.Equal(("10.0.0.5", 5432), (built.Host!, built.Port));
    }

    [Theory]
    [InlineData("postgres://ahm:hunter2@db/swarm", "store_password_file")]
    [InlineData("Host=db;Username=ahm;Password=hunter2;Database=swarm", "store_password_file")]
    [InlineData("postgres://ahm@db", "database")]
    [InlineData("Hots=db", "connection string")]
    public void A_bad_store_setting_is_refused_naming_what_is_wrong(string store, string expected)
    {
        var e = Assert.Throws<SettingsException>(() => StoreSelection.ConnectionString(store, null));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_password_file_is_a_settings_error()
    {
        var e = Assert.Throws<SettingsException>(() => StoreSelection.ConnectionString("postgres://ahm@db/swarm", "/nonexistent/pw"));
        Assert.Contains("store_password_file", e.Message, StringComparison.Ordinal);
    }
}
