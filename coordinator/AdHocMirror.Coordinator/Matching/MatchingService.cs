using AdHocMirror.Contracts.V1;
using AdHocMirror.Coordinator.Geo;
using AdHocMirror.Hosting;
using Grpc.Core;

namespace AdHocMirror.Coordinator.Matching;

/// <summary>ahm.v1.Matching at the edge: checks the request, hands it to <see cref="MirrorMatcher"/> with the caller's address.</summary>
public sealed class MatchingService(MirrorMatcher matcher) : Contracts.V1.Matching.MatchingBase
{
    public override Task<FindMirrorReply> FindMirror(FindMirrorRequest request, ServerCallContext context)
    {
        if (request.Protocol is not (Protocol.Rsync or Protocol.Git))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "protocol must be PROTOCOL_RSYNC or PROTOCOL_GIT"));
        }

        if (request.Hint?.Point is { } hintPoint && !GeoPlace.IsValid(hintPoint.Latitude, hintPoint.Longitude))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "hint.point must be latitude -90..90 and longitude -180..180"));
        }

        return Task.FromResult(matcher.Find(request, context.PeerAddress()));
    }

    public override Task<ReportSyncReply> ReportSync(ReportSyncRequest request, ServerCallContext context)
    {
        if (string.IsNullOrEmpty(request.LeaseId))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "lease_id is required"));
        }

        if (request.Outcome == SyncOutcome.Unspecified || !System.Enum.IsDefined(request.Outcome))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "outcome is required"));
        }

        return matcher.ReportAsync(request, context.PeerAddress(), context.CancellationToken);
    }
}
