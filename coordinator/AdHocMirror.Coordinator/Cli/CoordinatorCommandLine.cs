using System.CommandLine;
using AdHocMirror.Coordinator.Hosting;
using AdHocMirror.Hosting;
using Microsoft.Extensions.Hosting;

namespace AdHocMirror.Coordinator.Cli;

/// <summary>The <c>ahm-coordinator</c> command line: <c>serve</c> and <c>admin …</c>.</summary>
public static class CoordinatorCommandLine
{
    /// <summary>
    /// System.CommandLine's own SIGTERM/SIGINT handling off: it gives the action 2 s and then ends the process with 143,
    /// which would cut a shutdown short on a loaded machine. The host handles both signals and stops in order.
    /// </summary>
    private static InvocationConfiguration OwnSignals => new() { ProcessTerminationTimeout = null };

    public static async Task<int> InvokeAsync(string[] args)
    {
        var config = new Option<FileInfo?>("--config") { Description = "Settings file (key = value lines); flags override it", Recursive = true };
        var root = new RootCommand("ahm-coordinator: the Ad Hoc Mirror tracker — anonymous mirror keys, liveness, geo-aware matching, administration.");
        root.Options.Add(config);
        root.Subcommands.Add(BuildServe(config));
        root.Subcommands.Add(AdminCommandLine.Build(config));
        foreach (var command in WithSubcommands(root))
        {
            command.Description += "\n" + ExitCodes.Common;
        }

        // A flag it does not know is a bad command line: 2, as README says, not System.CommandLine's 1.
        var parsed = root.Parse(args);
        var exit = await parsed.InvokeAsync(OwnSignals);
        return parsed.Errors.Count > 0 ? ExitCodes.Usage : exit;
    }

    private static IEnumerable<Command> WithSubcommands(Command command) => [command, .. command.Subcommands.SelectMany(WithSubcommands)];

    private static Command BuildServe(Option<FileInfo?> config)
    {
        var listen = new Option<string?>("--listen") { Description = $"Public gRPC address HOST:PORT [default: 0.0.0.0:{CoordinatorOptions.DefaultPort}]" };
        var adminListen = new Option<string?>("--admin-listen") { Description = $"Admin gRPC address HOST:PORT [default: 127.0.0.1:{CoordinatorOptions.DefaultAdminPort}]" };
        var dataDir = new Option<string?>("--data-dir") { Description = "State directory (database, admin token) [default: /var/lib/ahm-coordinator]" };
        var geoip = new Option<string?>("--geoip") { Description = "MaxMind City database (.mmdb)" };
        var tlsCert = new Option<string?>("--tls-cert") { Description = "PEM certificate for the public listener (enables TLS)" };
        var tlsKey = new Option<string?>("--tls-key") { Description = "PEM private key for --tls-cert" };
        var metricsListen = new Option<string?>("--metrics-listen") { Description = $"Plain HTTP /metrics and /healthz address HOST:PORT, or 'off' [default: 127.0.0.1:{CoordinatorOptions.DefaultMetricsPort}]" };
        var database = new Option<string?>("--database") { Description = "SQLite database file [default: DATA_DIR/coordinator.db]" };
        (string Flag, string Setting, string Description)[] tunables =
        [
            ("--store", "store", "PostgreSQL database shared by several coordinators, postgres://USER@HOST[:PORT]/DB or a connection string; no password here [default: SQLite in DATA_DIR]"),
            ("--store-password-file", "store_password_file", "File holding the PostgreSQL password (else AHM_STORE_PASSWORD or PGPASSWORD)"),
            ("--heartbeat-interval", "heartbeat_interval", "With a shared store: how often a coordinator writes its heartbeat row [default: 2s]"),
            ("--coordinator-timeout", "coordinator_timeout", "With a shared store: a coordinator silent this long is taken for dead [default: 10s]"),
            ("--change-poll-interval", "change_poll_interval", "With a shared store: how often the others' changes are read [default: 250ms]"),
            ("--advertise", "advertise", "With a shared store: the public URL other tools are told for this coordinator [default: from --listen]"),
            ("--key-lifetime", "key_lifetime", "Key lifetime from issue [default: 30d]"),
            ("--key-idle-limit", "key_idle_limit", "Revoke keys unused this long [default: 14d]"),
            ("--key-cool-off", "key_cool_off", "Keep ended key ids tombstoned this long [default: 90d]"),
            ("--housekeeping-interval", "housekeeping_interval", "Housekeeping period [default: 1m]"),
            ("--registrations-per-hour", "registrations_per_hour", "Registrations per source network (/24, /48) per hour [default: 20]"),
            ("--max-mirrors-per-address", "max_mirrors_per_address", "Live mirrors per source address [default: 8]"),
            ("--ping-interval", "ping_interval", "Time between pings of a mirror, jittered [default: 60s]"),
            ("--ping-timeout", "ping_timeout", "Per-ping timeout [default: 5s]"),
            ("--ping-failures", "ping_failures", "Consecutive failed pings that take a mirror offline [default: 3]"),
            ("--ping-concurrency", "ping_concurrency", "Pings in flight at once [default: 64]"),
            ("--ping-address", "ping_address", "Ping address policy: 'caller' (must be the login's own address) or 'any' [default: caller]"),
            ("--lease-ttl", "lease_ttl", "A lease not released by ReportSync frees its place after this long [default: 5m]"),
            ("--candidates", "candidates", "Candidates per answer when the client asks for 0 [default: 3]"),
            ("--similar-distance-km", "similar_distance_km", "Mirrors this close in distance count as equally near; spare capacity orders them [default: 100]"),
            ("--official-margin-km", "official_margin_km", "A volunteer must be this much nearer than the nearest official mirror [default: 200]"),
            ("--official-far-km", "official_far_km", "Official mirrors farther than this do not hold volunteers back [default: 1500]"),
            ("--quarantine-reports", "quarantine_reports", "Distinct clients reporting bad trees that quarantine a mirror [default: 3]"),
            ("--report-window", "report_window", "Window in which those reports count [default: 1h]"),
            ("--reveal-budget", "reveal_budget", "Distinct volunteers shown to one client network (/24, /48) per window, or 'off' [default: 8]"),
            ("--reveal-window", "reveal_window", "The reveal budget's window; its secret rotates with it [default: 1h]"),
            ("--privacy-networks", "privacy_networks", "Client networks remembered by budget and rate limit; the oldest is forgotten beyond it [default: 100000]"),
            ("--findmirror-per-minute", "findmirror_per_minute", "FindMirror calls per client network per minute, or 'off' [default: 20]"),
            ("--hint-max-km", "hint_max_km", "A client's location hint counts only this close to where its address places it [default: 250]"),
        ];
        var overrides = new Option<string[]>("--location-override") { Description = "CIDR → place, 'CIDR = LAT,LON [place]'; repeatable; wins over GeoIP", AllowMultipleArgumentsPerToken = false };
        var officials = new Option<string[]>("--official") { Description = "Official mirror 'NAME URI [LAT,LON]'; repeatable; replaces the built-in list", AllowMultipleArgumentsPerToken = false };
        var tunableOptions = tunables.Select(t => (t.Setting, Option: new Option<string?>(t.Flag) { Description = t.Description })).ToList();
        var serve = new Command("serve", "Run the coordinator in the foreground until SIGTERM/SIGINT.") { listen, adminListen, metricsListen, dataDir, database, geoip, tlsCert, tlsKey, overrides, officials };
        foreach (var (_, option) in tunableOptions)
        {
            serve.Options.Add(option);
        }

        serve.SetAction(async (result, cancellationToken) =>
        {
            CoordinatorOptions options;
            IHost host;
            try
            {
                options = CoordinatorSettings.Load(result.GetValue(config)?.FullName);
                options.Listen = result.GetValue(listen) ?? options.Listen;
                options.AdminListen = result.GetValue(adminListen) ?? options.AdminListen;
                options.DataDir = result.GetValue(dataDir) ?? options.DataDir;
                options.GeoIp = result.GetValue(geoip) ?? options.GeoIp;
                options.TlsCert = result.GetValue(tlsCert) ?? options.TlsCert;
                options.TlsKey = result.GetValue(tlsKey) ?? options.TlsKey;
                options.MetricsListen = result.GetValue(metricsListen) ?? options.MetricsListen;
                options.Database = result.GetValue(database) ?? options.Database;
                foreach (var (setting, option) in tunableOptions)
                {
                    if (result.GetValue(option) is { } value)
                    {
                        CoordinatorSettings.Apply(options, setting, value, option.Name);
                    }
                }

                foreach (var spec in result.GetValue(overrides) ?? [])
                {
                    CoordinatorSettings.AddOverride(options, spec);
                }

                foreach (var spec in result.GetValue(officials) ?? [])
                {
                    CoordinatorSettings.AddOfficial(options, spec);
                }

                // Checked before the host is built: a bad database is one line and exit 2, before any listener opens.
                Geo.GeoIpFile.Check(options.GeoIp);
                host = CoordinatorHost.Build(options);
            }
            catch (SettingsException e)
            {
                await Console.Error.WriteLineAsync($"ahm-coordinator: {e.Message}");
                return ExitCodes.Usage;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                await Console.Error.WriteLineAsync($"ahm-coordinator: cannot prepare the data directory: {e.Message}");
                return ExitCodes.Failure;
            }

            try
            {
                await host.RunAsync(cancellationToken);
                return ExitCodes.Success;
            }
            catch (OperationCanceledException)
            {
                // SIGTERM/SIGINT before every part had started: the host stopped what had; a stop asked for is a clean exit.
                await Console.Error.WriteLineAsync("ahm-coordinator: stopped while starting");
                return ExitCodes.Success;
            }
            catch (SettingsException e)
            {
                // A setting only a started part could judge: still one line naming it, never a stack trace.
                await Console.Error.WriteLineAsync($"ahm-coordinator: {e.Message}");
                return ExitCodes.Usage;
            }
            catch (Exception e) when (e is IOException or Microsoft.Data.Sqlite.SqliteException or InvalidOperationException or UnauthorizedAccessException or Grpc.Core.RpcException or Npgsql.NpgsqlException)
            {
                await Console.Error.WriteLineAsync($"ahm-coordinator: cannot start: {e.Message}");
                return ExitCodes.Failure;
            }
            finally
            {
                host.Dispose();
            }
        });
        return serve;
    }
}
