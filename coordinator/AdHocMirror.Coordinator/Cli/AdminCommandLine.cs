using System.CommandLine;
using AdHocMirror.Hosting;

namespace AdHocMirror.Coordinator.Cli;

/// <summary><c>ahm-coordinator admin …</c>: the infra staff's commands against the Admin service.</summary>
public static class AdminCommandLine
{
    public static Command Build(Option<FileInfo?> config)
    {
        _ = config;
        var admin = new Command("admin", "Administer a running coordinator (mirrors, keys, blacklists, audit, stats).");
        admin.SetAction(async _ =>
        {
            await Console.Error.WriteLineAsync("ahm-coordinator admin: not available yet");
            return ExitCodes.Failure;
        });
        return admin;
    }
}
