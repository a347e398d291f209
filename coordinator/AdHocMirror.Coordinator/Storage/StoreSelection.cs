using AdHocMirror.Hosting;
using Npgsql;

namespace AdHocMirror.Coordinator.Storage;

/// <summary>
/// Chooses the store from the settings: SQLite in the data directory unless <c>store</c> names a
/// PostgreSQL database, as a URL (<c>postgres://user@host:port/db?sslmode=require</c>) or an Npgsql
/// connection string. The password never comes from the command line or the settings: it is read
/// from <c>store_password_file</c>, or <c>AHM_STORE_PASSWORD</c>, or libpq's <c>PGPASSWORD</c> / <c>PGPASSFILE</c>.
/// </summary>
public static class StoreSelection
{
    public const string PasswordVariable = "AHM_STORE_PASSWORD";

    public static bool IsShared(string? store) => !string.IsNullOrWhiteSpace(store);

    /// <summary>The store to open; throws <see cref="SettingsException"/> naming the setting on a bad value.</summary>
    public static ICoordinatorStore Create(string? store, string? passwordFile, string sqlitePath) =>
        IsShared(store) ? new PostgresCoordinatorStore(ConnectionString(store!, passwordFile)) : new SqliteCoordinatorStore(sqlitePath);

    public static string ConnectionString(string store, string? passwordFile)
    {
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = store.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) || store.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase)
                ? FromUrl(store)
                : new NpgsqlConnectionStringBuilder(store);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or UriFormatException or KeyNotFoundException)
        {
            throw new SettingsException($"store: not a PostgreSQL URL or connection string ({e.Message})");
        }

        if (!string.IsNullOrEmpty(builder.Password))
        {
            throw new SettingsException($"store: the password does not belong in the store setting (command lines and settings are readable); put it in store_password_file or {PasswordVariable}");
        }

        if (string.IsNullOrEmpty(builder.Host) || string.IsNullOrEmpty(builder.Database))
        {
            throw new SettingsException("store: name the host and the database (postgres://USER@HOST[:PORT]/DATABASE)");
        }

        if (passwordFile is not null)
        {
            try
            {
                builder.Password = File.ReadAllText(passwordFile).TrimEnd('\r', '\n');
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new SettingsException($"store_password_file {passwordFile}: {e.Message}");
            }
        }
        else if (Environment.GetEnvironmentVariable(PasswordVariable) is { Length: > 0 } password)
        {
            builder.Password = password;
        }

        builder.ApplicationName ??= "ahm-coordinator";
        return builder.ConnectionString;
    }

    private static NpgsqlConnectionStringBuilder FromUrl(string url)
    {
        var uri = new Uri(url);
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host.Trim('[', ']'),
            Port = uri.IsDefaultPort || uri.Port <= 0 ? 5432 : uri.Port,
            Database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/')),
        };
        var userInfo = uri.UserInfo.Split(':', 2);
        if (userInfo[0].Length > 0)
        {
            builder.Username = Uri.UnescapeDataString(userInfo[0]);
        }

        if (userInfo.Length > 1)
        {
            builder.Password = Uri.UnescapeDataString(userInfo[1]);
        }

        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var (key, value) = pair.Split('=', 2) is [var k, var v] ? (k, v) : (pair, string.Empty);
            builder[Uri.UnescapeDataString(key) switch { "sslmode" => "SSL Mode", var other => other }] = Uri.UnescapeDataString(value);
        }

        return builder;
    }
}
