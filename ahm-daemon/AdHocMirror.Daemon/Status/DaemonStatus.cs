using System.Text.Json;
using System.Text.Json.Serialization;

namespace AdHocMirror.Daemon.Status;

/// <summary>What <c>ahm-daemon status</c> shows: written by the running daemon to <c>STATE_DIR/status.json</c>.</summary>
public sealed record DaemonStatus
{
    public int Pid { get; init; }

    public DateTimeOffset StartedAt { get; init; }

    public DateTimeOffset UpdatedAt { get; init; }

    public string? KeyId { get; init; }

    public DateTimeOffset? KeyIssuedAt { get; init; }

    public DateTimeOffset? KeyExpiresAt { get; init; }

    public string? Coordinator { get; init; }

    /// <summary>"starting", "logging in", "online", "unreachable", "stopped", "banned".</summary>
    public string Session { get; init; } = "starting";

    public string? SessionDetail { get; init; }

    public DateTimeOffset? LoggedInAt { get; init; }

    public DateTimeOffset? LastPingAt { get; init; }

    public long Pings { get; init; }

    public ProtocolStatus? Rsync { get; init; }

    public ProtocolStatus? Git { get; init; }

    public int ActiveConnections { get; init; }

    /// <summary>Set when the daemon stopped serving for good (e.g. blacklisted), with the reason.</summary>
    public string? Stopped { get; init; }
}

/// <summary>One protocol's snapshot and sync history.</summary>
public sealed record ProtocolStatus
{
    public string? Upstream { get; init; }

    public DateTimeOffset? Version { get; init; }

    public string? Commit { get; init; }

    public string? Snapshot { get; init; }

    public bool Serving { get; init; }

    public DateTimeOffset? LastSyncAt { get; init; }

    /// <summary>"published", "up to date", or "failed".</summary>
    public string? LastSyncResult { get; init; }

    public string? LastSyncError { get; init; }

    public DateTimeOffset? LastPublishedAt { get; init; }

    public long Syncs { get; init; }

    public long Failures { get; init; }
}

/// <summary>The status file: JSON, replaced atomically.</summary>
public static class StatusFile
{
    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static void Write(string path, DaemonStatus status)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        Enrolment.AtomicFile.Write(path, JsonSerializer.SerializeToUtf8Bytes(status, Json),
            UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
    }

    public static DaemonStatus? Read(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<DaemonStatus>(File.ReadAllBytes(path), Json);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }
    }
}
