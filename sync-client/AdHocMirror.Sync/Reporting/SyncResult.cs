using System.Text.Json;
using System.Text.Json.Serialization;

namespace AdHocMirror.Sync.Reporting;

/// <summary>One source tried: what happened and whether the coordinator was told.</summary>
public sealed record SyncAttempt
{
    public required string Uri { get; init; }
    public bool Official { get; init; }
    public string? Place { get; init; }
    public double? RoundTripMs { get; init; }
    public required string Outcome { get; init; }
    public string? Detail { get; init; }
    public long BytesReceived { get; init; }
    public long FilesTransferred { get; init; }
    public double Seconds { get; init; }
    public string? VerifiedVersion { get; init; }
    public bool Reported { get; init; }
}

/// <summary>The <c>--json</c> result object (snake_case); also the source of the one-line summary.</summary>
public sealed record SyncResult
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = false,
    };

    /// <summary>synced, up_to_date, no_usable_source, verification_refused, locked, configuration_error, interrupted, failed.</summary>
    public required string Status { get; init; }
    public int ExitCode { get; init; }
    public required string Message { get; init; }
    public string? Repository { get; init; }
    public string? Protocol { get; init; }
    public string? PreviousVersion { get; init; }
    public string? Version { get; init; }
    public string? Source { get; init; }
    public bool? SourceOfficial { get; init; }
    public bool CoordinatorReachable { get; init; }
    public string? CoordinatorError { get; init; }
    public long BytesReceived { get; init; }
    public double Seconds { get; init; }
    public IReadOnlyList<SyncAttempt> Attempts { get; init; } = [];
    public IReadOnlyList<string> HookFailures { get; init; } = [];

    public string ToJson() => JsonSerializer.Serialize(this, Json);
}
