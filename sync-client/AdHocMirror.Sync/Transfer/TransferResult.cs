using AdHocMirror.Contracts.V1;

namespace AdHocMirror.Sync.Transfer;

/// <summary>What one transfer into staging did: bytes received (rsync --stats, or new git packs), or why it failed.</summary>
public sealed record TransferResult(bool Succeeded, long BytesReceived, long FilesTransferred)
{
    public SyncOutcome FailureOutcome { get; init; }
    public string? Detail { get; init; }

    /// <summary>Wall time of the transfer program itself (rsync), without our preparation around it.</summary>
    public TimeSpan ProgramElapsed { get; init; }

    public static TransferResult Failed(SyncOutcome outcome, string detail) => new(false, 0, 0) { FailureOutcome = outcome, Detail = detail };
}

/// <summary>Progress of a running transfer, for the terminal.</summary>
public readonly record struct TransferProgress(long Bytes, int Percent, string Speed);

/// <summary>Fetches a source's tree into a staging directory (rsync or git).</summary>
public interface ITreeTransfer
{
    Task<TransferResult> FetchAsync(string uri, string staging, string? current, IProgress<TransferProgress>? progress, CancellationToken cancellationToken);
}
