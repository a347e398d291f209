using System.CommandLine;
using AdHocMirror.Coordinator.Hosting;
using AdHocMirror.Hosting;
using Microsoft.Extensions.Hosting;

namespace AdHocMirror.Coordinator.Cli;

/// <summary>The <c>ahm-coordinator</c> command line: <c>serve</c> and <c>admin …</c>.</summary>
public static class CoordinatorCommandLine
{
    public static async Task<int> InvokeAsync(string[] args)
    {
        var config = new Option<FileInfo?>("--config") { Description = "Settings file (key = value lines); flags override it", Recursive = true };
        var root = new RootCommand("ahm-coordinator: the Ad Hoc Mirror tracker — anonymous mirror keys, liveness, geo-aware matching, administration.");
        root.Options.Add(config);
        root.Subcommands.Add(BuildServe(config));
        root.Subcommands.Add(AdminCommandLine.Build(config));
        return await root.Parse(args).InvokeAsync();
    }

    private static Command BuildServe(Option<FileInfo?> config)
    {
        var listen = new Option<string?>("--listen") { Description = $"Public gRPC address HOST:PORT [default: 0.0.0.0:{CoordinatorOptions.DefaultPort}]" };
        var adminListen = new Option<string?>("--admin-listen") { Description = $"Admin gRPC address HOST:PORT [default: 127.0.0.1:{CoordinatorOptions.DefaultAdminPort}]" };
        var dataDir = new Option<string?>("--data-dir") { Description = "State directory (database, admin token) [default: /var/lib/ahm-coordinator]" };
        var geoip = new Option<string?>("--geoip") { Description = "MaxMind City database (.mmdb)" };
        var tlsCert = new Option<string?>("--tls-cert") { Description = "PEM certificate for the public listener (enables TLS)" };
        var tlsKey = new Option<string?>("--tls-key") { Description = "PEM private key for --tls-cert" };
        var serve = new Command("serve", "Run the coordinator in the foreground until SIGTERM/SIGINT.") { listen, adminListen, dataDir, geoip, tlsCert, tlsKey };
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
                host = CoordinatorHost.Build(options);
            }
            catch (SettingsException e)
            {
                await Console.Error.WriteLineAsync($"ahm-coordinator: {e.Message}");
                return ExitCodes.Usage;
            }

            try
            {
                await host.RunAsync(cancellationToken);
                return ExitCodes.Success;
            }
            catch (IOException e)
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
