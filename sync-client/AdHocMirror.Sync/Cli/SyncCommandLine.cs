using System.CommandLine;
using AdHocMirror.Hosting;

namespace AdHocMirror.Sync.Cli;

/// <summary>The <c>ahm-sync</c> command line.</summary>
public static class SyncCommandLine
{
    public static async Task<int> InvokeAsync(string[] args)
    {
        var config = new Option<FileInfo?>("--config") { Description = "Settings file (key = value lines); flags override it" };
        var repo = new Option<string?>("--repo") { Description = "Repository to sync [default: /var/db/repos/gentoo]" };
        var coordinator = new Option<string?>("--coordinator") { Description = "Coordinator URL, e.g. https://ahm.example.org:7470" };
        var protocol = new Option<string?>("--protocol") { Description = "rsync or git [default: what the repository uses]" };
        protocol.AcceptOnlyFromAmong("rsync", "git");
        var json = new Option<bool>("--json") { Description = "Print a machine-readable result" };
        var quiet = new Option<bool>("--quiet") { Description = "Print nothing but errors" };
        var root = new RootCommand("ahm-sync: sync a Gentoo repository from a newer nearby volunteer mirror, verify it, fall back to the official mirrors.")
        {
            config, repo, coordinator, protocol, json, quiet,
        };
        root.SetAction(_ =>
        {
            Console.Error.WriteLine("ahm-sync: not available in this build yet");
            return ExitCodes.Failure;
        });
        return await root.Parse(args).InvokeAsync();
    }
}
