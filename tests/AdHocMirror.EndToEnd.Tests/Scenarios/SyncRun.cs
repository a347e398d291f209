using System.Text.Json;
using AdHocMirror.Testing;

namespace AdHocMirror.EndToEnd.Tests.Scenarios;

/// <summary>What a user saw from one ahm-sync run: its exit code, its --json result and what it printed on stderr.</summary>
public sealed record SyncRun(int ExitCode, string Status, string Message, string? Version, string? Source, bool? SourceOfficial,
    bool CoordinatorReachable, IReadOnlyList<SyncRun.Attempt> Attempts, string Stdout, string Stderr)
{
    public sealed record Attempt(string Uri, bool Official, string Outcome, string? Detail, bool Reported);

    public static SyncRun Parse(ExternalProcess.Result run)
    {
        JsonElement json;
        try
        {
            json = JsonDocument.Parse(run.Stdout).RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new InvalidOperationException($"ahm-sync exited {run.ExitCode} without a JSON result ({e.Message}):\n{run.Stdout}\n{run.Stderr}", e);
        }

        var attempts = json.TryGetProperty("attempts", out var list)
            ? list.EnumerateArray().Select(a => new Attempt(
                a.GetProperty("uri").GetString()!,
                a.GetProperty("official").GetBoolean(),
                a.GetProperty("outcome").GetString()!,
                a.TryGetProperty("detail", out var d) ? d.GetString() : null,
                a.GetProperty("reported").GetBoolean())).ToList()
            : [];
        return new SyncRun(
            run.ExitCode,
            json.GetProperty("status").GetString()!,
            json.GetProperty("message").GetString()!,
            json.TryGetProperty("version", out var v) ? v.GetString() : null,
            json.TryGetProperty("source", out var s) ? s.GetString() : null,
            json.TryGetProperty("source_official", out var o) ? o.GetBoolean() : null,
            json.GetProperty("coordinator_reachable").GetBoolean(),
            attempts,
            run.Stdout,
            run.Stderr);
    }

    /// <summary>The manifest TIMESTAMP form ahm-sync prints versions in.</summary>
    public static string VersionText(DateTimeOffset version) => version.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);

    public override string ToString() => $"exit {ExitCode} ({Status}): {Message}\n" + string.Join('\n', Attempts.Select(a => $"  {a.Uri}: {a.Outcome} {a.Detail}")) + $"\nstderr: {Stderr}";
}
