using AdHocMirror.Contracts;
using AdHocMirror.Contracts.V1;
using AdHocMirror.Sync.Configuration;
using Grpc.Core;
using TreeVersion = AdHocMirror.Tree.Versions.TreeVersion;
using MatchingClient = AdHocMirror.Contracts.V1.Matching.MatchingClient;
using AdHocMirror.Clients;

namespace AdHocMirror.Sync.Discovery;

/// <summary>Asks the coordinator for newer nearby mirrors; when it cannot be reached, plans the official mirrors alone.</summary>
public sealed class MirrorDiscovery(SyncOptions options, MatchingClient? matching)
{
    public async Task<SourcePlan> FindAsync(TreeVersion? current, CancellationToken cancellationToken)
    {
        var configuredOfficial = options.Official.Select(u => new SyncSource(u, IsOfficial: true)).ToList();
        if (matching is null)
        {
            return new SourcePlan([], configuredOfficial) { CoordinatorError = "no coordinator configured" };
        }

        FindMirrorReply reply;
        try
        {
            reply = await matching.FindMirrorAsync(
                new FindMirrorRequest
                {
                    Protocol = options.Protocol,
                    Current = current?.ToContract(options.Protocol),
                    Hint = options.Near,
                    Count = options.Candidates,
                },
                Calls.WithTimeout(options.CoordinatorTimeout, cancellationToken: cancellationToken));
        }
        catch (Exception e) when (e is RpcException or HttpRequestException or IOException or TimeoutException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return new SourcePlan([], configuredOfficial) { CoordinatorError = e is RpcException rpc ? $"{rpc.StatusCode}: {rpc.Status.Detail}" : e.Message };
        }

        var candidates = reply.Candidates
            .Where(c => !string.IsNullOrEmpty(c.Uri))
            .Select(c => new SyncSource(c.Uri, IsOfficial: false)
            {
                LeaseId = c.LeaseId,
                MirrorId = c.MirrorId,
                Promised = c.Version is { Generated: not null } v ? TreeVersion.FromContract(v) : null,
                Place = c.Place,
                DistanceKm = c.DistanceKm,
            })
            .ToList();

        // The coordinator's officials (nearest first) then the configured ones, each once.
        var official = reply.Official.Select(o => new SyncSource(o.Uri, IsOfficial: true) { Place = o.Name, DistanceKm = o.DistanceKm })
            .Concat(configuredOfficial)
            .Where(o => !string.IsNullOrEmpty(o.Uri))
            .DistinctBy(o => o.Uri.TrimEnd('/'), StringComparer.Ordinal)
            .ToList();
        return new SourcePlan(candidates, official)
        {
            UpToDate = reply.UpToDate,
            CoordinatorReachable = true,
            Newest = reply.Newest is { Generated: not null } n ? TreeVersion.FromContract(n) : null,
            Location = reply.ClientLocation is { } p ? $"{p.Latitude:0.##},{p.Longitude:0.##} ({reply.LocationSource})" : null,
        };
    }
}
