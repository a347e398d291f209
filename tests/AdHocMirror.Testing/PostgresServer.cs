using System.Globalization;
using Xunit;

namespace AdHocMirror.Testing;

/// <summary>
/// A private PostgreSQL cluster for one test class: <c>initdb</c> in a temporary directory, the server
/// on a loopback port from <see cref="FreePort"/> (and its socket in that directory), a password user,
/// stopped and deleted on dispose. As root the cluster runs as the unprivileged <c>postgres</c> user
/// (the server refuses root). Tests skip, saying so, only when the binaries are absent.
/// </summary>
public sealed class PostgresServer : IAsyncLifetime
{
    public const string User = "ahm";
    public const string Password = "ahm-test-password";
    private static readonly string? BinDirectory = FindBinaries();
    private readonly TempDir _dir = new("ahm-pg");
    private int _databases;

    /// <summary>Why PostgreSQL tests cannot run here, or null when they can.</summary>
    public static string? SkipReason => BinDirectory is null
        ? "PostgreSQL server binaries (initdb, pg_ctl) not found under /usr/lib/postgresql/*/bin; scripts/setup.sh installs Debian's postgresql"
        : null;

    public int Port { get; private set; }

    public string DataDirectory => _dir.Combine("data");

    public string PasswordFile => _dir.Combine("password");

    public bool IsRunning { get; private set; }

    public async Task InitializeAsync()
    {
        if (BinDirectory is null)
        {
            return;
        }

        Port = FreePort.Next();
        await File.WriteAllTextAsync(PasswordFile, Password + "\n");
        if (Environment.IsPrivilegedProcess)
        {
            await RunAsync("chown", ["-R", "postgres:postgres", _dir.Path]);
        }

        await RunPostgresAsync("initdb", ["-D", DataDirectory, "-U", User, "--pwfile", PasswordFile, "-A", "scram-sha-256", "-E", "UTF8", "--no-sync", "--locale", "C"]);
        await StartAsync();
    }

    /// <summary>Starts (again) on the same port and data.</summary>
    public async Task StartAsync()
    {
        var options = string.Join(' ', new[]
        {
            $"-p {Port.ToString(CultureInfo.InvariantCulture)}", $"-k {_dir.Path}", "-c listen_addresses=127.0.0.1",
            // Durability of the test machine's disk is not what these tests measure; commit semantics are unchanged.
            "-c fsync=off", "-c full_page_writes=off", "-c max_connections=300",
        });
        await RunPostgresAsync("pg_ctl", ["-D", DataDirectory, "-l", _dir.Combine("server.log"), "-o", options, "-w", "-t", "60", "start"]);
        IsRunning = true;
    }

    /// <summary>Stops the server at once (connections are cut, as when a database machine goes away).</summary>
    public async Task StopAsync()
    {
        IsRunning = false;
        await RunPostgresAsync("pg_ctl", ["-D", DataDirectory, "-m", "immediate", "-w", "-t", "60", "stop"]);
    }

    /// <summary>Creates a fresh database and returns a connection string for it, without the password.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = $"ahm_{Interlocked.Increment(ref _databases)}_{Guid.NewGuid():N}"[..24];
        await PsqlAsync($"CREATE DATABASE {name}");
        return ConnectionString(name);
    }

    public string ConnectionString(string database) => $"Host=127.0.0.1;Port={Port};Username={User};Database={database}";

    /// <summary>The connection string with the password, for tests that talk to the store directly.</summary>
    public string WithPassword(string connectionString) => connectionString + $";Password={Password}";

    public Task<ExternalProcess.Result> PsqlAsync(string sql, string database = "postgres") =>
        RunAsync(Path.Combine(BinDirectory!, "psql"), ["-h", "127.0.0.1", "-p", Port.ToString(CultureInfo.InvariantCulture), "-U", User, "-d", database, "-v", "ON_ERROR_STOP=1", "-Atc", sql]);

    public async Task DisposeAsync()
    {
        if (BinDirectory is not null && File.Exists(Path.Combine(DataDirectory, "postmaster.pid")))
        {
            try
            {
                await StopAsync();
            }
            catch (InvalidOperationException)
            {
                // Already stopped.
            }
        }

        _dir.Dispose();
    }

    private Task<ExternalProcess.Result> RunPostgresAsync(string program, IReadOnlyList<string> arguments)
    {
        var path = Path.Combine(BinDirectory!, program);
        return Environment.IsPrivilegedProcess
            ? RunAsync("runuser", ["-u", "postgres", "--", path, .. arguments])
            : RunAsync(path, arguments);
    }

    private static async Task<ExternalProcess.Result> RunAsync(string program, IReadOnlyList<string> arguments) =>
        (await ExternalProcess.RunAsync(program, arguments, workingDirectory: "/", environment: new Dictionary<string, string> { ["PGPASSWORD"] = Password }))
        .EnsureSuccess($"{program} {string.Join(' ', arguments)}");

    private static string? FindBinaries()
    {
        const string root = "/usr/lib/postgresql";
        if (!Directory.Exists(root))
        {
            return null;
        }

        // 15 is what CI installs; any other version the machine has works too.
        return Directory.GetDirectories(root)
            .OrderByDescending(d => Path.GetFileName(d) == "15")
            .ThenByDescending(d => int.TryParse(Path.GetFileName(d), out var v) ? v : 0)
            .Select(d => Path.Combine(d, "bin"))
            .FirstOrDefault(d => File.Exists(Path.Combine(d, "initdb")) && File.Exists(Path.Combine(d, "pg_ctl")));
    }
}

/// <summary>A fact that needs a PostgreSQL server; skipped, saying so, when its binaries are absent.</summary>
public sealed class PostgresFactAttribute : FactAttribute
{
    public PostgresFactAttribute() => Skip = PostgresServer.SkipReason;
}
