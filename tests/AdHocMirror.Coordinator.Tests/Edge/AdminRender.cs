using AdHocMirror.Contracts.V1;
using AdHocMirror.Coordinator.Cli;
using Google.Protobuf;
using Spectre.Console;

namespace AdHocMirror.Coordinator.Tests.Edge;

/// <summary>Renders a reply the way <c>ahm-coordinator admin</c> does, table and --json, into a string.</summary>
public static class AdminRender
{
    public static string All(IMessage reply)
    {
        var json = AdminViews.Json(reply);
        var (table, footer) = reply switch
        {
            ListMirrorsReply m => AdminViews.Mirrors(m),
            ListKeysReply k => AdminViews.Keys(k),
            ListAuditReply a => AdminViews.Audit(a),
            ListBlacklistReply b => AdminViews.Blacklist(b),
            ListQuarantineReply q => AdminViews.Quarantine(q),
            GetStatsReply s => AdminViews.Stats(s),
            _ => throw new ArgumentException(reply.Descriptor.Name, nameof(reply)),
        };
        using var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(writer), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors });
        console.Profile.Width = 250;
        console.Write(table);
        console.WriteLine(footer);
        return json + "\n" + writer;
    }
}
