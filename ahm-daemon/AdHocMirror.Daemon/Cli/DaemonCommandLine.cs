using System.CommandLine;
using AdHocMirror.Hosting;

namespace AdHocMirror.Daemon.Cli;

/// <summary>The <c>ahm-daemon</c> command line: <c>run</c>, <c>status</c>, <c>forget-key</c>.</summary>
public static class DaemonCommandLine
{
    public const string DefaultConfig = "/etc/ahm/daemon.conf";

    public static async Task<int> InvokeAsync(string[] args)
    {
        var config = new Option<FileInfo?>("--config") { Description = $"Settings file [default: {DefaultConfig}]", Recursive = true };
        var root = new RootCommand("ahm-daemon: serve a verified Gentoo tree to nearby users over rsync and git, as an Ad Hoc Mirror volunteer.");
        root.Options.Add(config);

        var run = new Command("run", "Run the mirror in the foreground until SIGTERM/SIGINT.");
        run.SetAction(_ => NotYet("run"));
        var status = new Command("status", "Show key age, session, versions, connections and last sync.");
        var json = new Option<bool>("--json") { Description = "Print JSON" };
        status.Options.Add(json);
        status.SetAction(_ => NotYet("status"));
        var forget = new Command("forget-key", "Retire this mirror's key and delete it from the state directory.");
        forget.SetAction(_ => NotYet("forget-key"));
        root.Subcommands.Add(run);
        root.Subcommands.Add(status);
        root.Subcommands.Add(forget);
        return await root.Parse(args).InvokeAsync();
    }

    private static int NotYet(string command)
    {
        Console.Error.WriteLine($"ahm-daemon {command}: not available in this build yet");
        return ExitCodes.Failure;
    }
}
