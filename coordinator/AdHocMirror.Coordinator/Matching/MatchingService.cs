using AdHocMirror.Contracts.V1;
using AdHocMirror.Coordinator.Edge;
using AdHocMirror.Coordinator.Geo;
using AdHocMirror.Hosting;
using Grpc.Core;

namespace AdHocMirror.Coordinator.Matching;

/// <summary>ahm.v1.Matching at the edge: checks the request, hands it to <see cref="MirrorMatcher"/> with the caller's address.</summary>
public sealed class MatchingService(MirrorMatcher matcher, TimeProvider clock) : Contracts.V1.Matching.MatchingBase
{
    public const int MaxLeaseIdLength = 64;
    public const int MaxDetailLength = 200;
    public const int MaxCountryCodeLength = 2;

    /// <summary>A sync reported as lasting longer than this is not a sync.</summary>
    public const double MaxDurationSeconds = 7 * 24 * 3600;

    /// <summary>A tree is well under a gigabyte; a report of more only inflates the metrics.</summary>
    public const ulong MaxBytes = 1UL << 40;

    public override Task<FindMirrorReply> FindMirror(FindMirrorRequest request, ServerCallContext context)
    {
        if (request.Protocol is not (Protocol.Rsync or Protocol.Git))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "protocol must be PROTOCOL_RSYNC or PROTOCOL_GIT"));
        }

        // An unset `generated` stands for an empty tree, as an unset `current` does.
        if (request.Current is { } current)
        {
            if (current.Generated is not null)
            {
                FieldRules.CheckGenerated("current.generated", current.Generated, clock.GetUtcNow());
            }

            FieldRules.CheckHex("current.commit", current.Commit, FieldRules.MaxCommitLength);
        }

        if (request.Hint is { } hint)
        {
            if (hint.Point is { } hintPoint && !GeoPlace.IsValid(hintPoint.Latitude, hintPoint.Longitude))
            {
                throw new RpcException(new Status(StatusCode.InvalidArgument, "hint.point must be latitude -90..90 and longitude -180..180"));
            }

            if (hint.CountryCode.Length > MaxCountryCodeLength)
            {
                throw FieldRules.Invalid("hint.country_code must be an ISO 3166-1 alpha-2 code");
            }
        }

        return Task.FromResult(matcher.Find(request, context.PeerAddress()));
    }

    public override Task<ReportSyncReply> ReportSync(ReportSyncRequest request, ServerCallContext context)
    {
        if (string.IsNullOrEmpty(request.LeaseId))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "lease_id is required"));
        }

        FieldRules.CheckLength("lease_id", request.LeaseId, MaxLeaseIdLength);
        if (request.Outcome == SyncOutcome.Unspecified || !System.Enum.IsDefined(request.Outcome))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "outcome is required"));
        }

        if (!double.IsFinite(request.DurationSeconds) || request.DurationSeconds is < 0 or > MaxDurationSeconds)
        {
            throw FieldRules.Invalid($"duration_seconds must be 0 to {MaxDurationSeconds:0}");
        }

        if (request.Bytes > MaxBytes)
        {
            throw FieldRules.Invalid("bytes must be at most 1 TiB");
        }

        FieldRules.CheckLength("detail", request.Detail, MaxDetailLength);
        if (request.Verified is { } verified)
        {
            FieldRules.CheckVersion("verified", verified, clock.GetUtcNow(), protocolRequired: false);
        }

        return matcher.ReportAsync(request, context.PeerAddress(), context.CancellationToken);
    }
}
