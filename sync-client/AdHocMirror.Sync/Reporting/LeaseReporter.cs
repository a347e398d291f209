using AdHocMirror.Contracts;
using AdHocMirror.Contracts.V1;
using AdHocMirror.Sync.Discovery;
using Grpc.Core;
using TreeVersion = AdHocMirror.Tree.Versions.TreeVersion;
using MatchingClient = AdHocMirror.Contracts.V1.Matching.MatchingClient;
using AdHocMirror.Clients;

namespace AdHocMirror.Sync.Reporting;

/// <summary>
/// Tells the coordinator how a leased candidate did (ReportSync), releasing the lease. Best effort: a coordinator that
/// went away must not fail a good sync; the lease then expires by itself.
/// </summary>
public sealed class LeaseReporter(MatchingClient? matching, Protocol protocol, TimeSpan timeout)
{
    public async Task<bool> ReportAsync(SyncSource source, SyncOutcome outcome, long bytes, TimeSpan duration, TreeVersion? verified, string? detail)
    {
        if (matching is null || string.IsNullOrEmpty(source.LeaseId))
        {
            return false;
        }

        try
        {
            await matching.ReportSyncAsync(
                new ReportSyncRequest
                {
                    LeaseId = source.LeaseId,
                    Outcome = outcome,
                    Bytes = (ulong)Math.Max(0, bytes),
                    DurationSeconds = duration.TotalSeconds,
                    Verified = verified?.ToContract(protocol),
                    Detail = Truncate(detail),
                },
                Calls.WithTimeout(timeout));
            return true;
        }
        catch (Exception e) when (e is RpcException or HttpRequestException or IOException or OperationCanceledException)
        {
            return false;
        }
    }

    private static string Truncate(string? detail) => detail is null ? string.Empty : detail.Length <= 200 ? detail : detail[..200];
}
