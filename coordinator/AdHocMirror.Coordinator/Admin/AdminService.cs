using AdHocMirror.Contracts;
using AdHocMirror.Contracts.V1;
using AdHocMirror.Coordinator.Keys;
using AdHocMirror.Coordinator.Matching;
using AdHocMirror.Coordinator.Mirrors;
using AdHocMirror.Coordinator.Observability;
using AdHocMirror.Coordinator.Storage;
using AdHocMirror.Coordinator.Edge;
using Grpc.Core;
using Google.Protobuf.WellKnownTypes;

namespace AdHocMirror.Coordinator.Admin;

/// <summary>ahm.v1.Admin at the edge, on the admin listener only; <see cref="AdminTokenInterceptor"/> checks the token of every call.</summary>
public sealed class AdminService(
    KeyRegistry keys,
    MirrorDirectory directory,
    MirrorIndex index,
    MirrorQuarantine quarantine,
    ICoordinatorStore store,
    AuditTrail audit,
    CoordinatorMetrics metrics,
    Cluster.ICoordinatorRole role,
    Cluster.ClusterOptions clusterOptions) : Contracts.V1.Admin.AdminBase
{
    public const int MaxReasonLength = 500;

    /// <summary>Longer than any blacklist needs; "until lifted" is an unset duration.</summary>
    public static readonly TimeSpan MaxDuration = TimeSpan.FromDays(3650);

    public override Task<ListMirrorsReply> ListMirrors(ListMirrorsRequest request, ServerCallContext context)
    {
        var states = request.States.ToHashSet();
        var reply = new ListMirrorsReply();
        foreach (var mirror in directory.List().Where(m => states.Count == 0 || states.Contains(m.State)).OrderBy(m => m.State).ThenBy(m => m.KeyId, StringComparer.Ordinal))
        {
            var info = new MirrorInfo
            {
                KeyId = mirror.KeyId,
                State = mirror.State,
                Endpoints = mirror.Endpoints.Clone(),
                Place = mirror.Place,
                Limits = mirror.Limits.Clone(),
                ActiveConnections = mirror.ActiveConnections,
                Leases = (uint)index.LeasesOf(mirror.KeyId),
                FailedPings = (uint)mirror.FailedPings,
                LastPingMs = mirror.LastPingMs,
                LoggedInAt = Timestamp.FromDateTimeOffset(mirror.LoggedInAt),
            };
            info.Versions.AddRange(mirror.Versions.Select(v => v.Clone()));
            if (mirror.Location is { } location)
            {
                info.Location = location.Clone();
            }

            if (mirror.LastPing is { } lastPing)
            {
                info.LastPing = Timestamp.FromDateTimeOffset(lastPing);
            }

            reply.Mirrors.Add(info);
        }

        return Task.FromResult(reply);
    }

    public override Task<ListKeysReply> ListKeys(ListKeysRequest request, ServerCallContext context)
    {
        var reply = new ListKeysReply();
        reply.Keys.AddRange(keys.ListKeys(request.IncludeTombstones));
        return Task.FromResult(reply);
    }

    public override async Task<AdminActionReply> RevokeKey(RevokeKeyRequest request, ServerCallContext context)
    {
        var keyId = KeyId(request.KeyId);
        var id = await keys.RevokeAsync(keyId, Reason(request.Reason, "revoked by staff"), context.CancellationToken);
        return new AdminActionReply { AuditId = (ulong)id, Summary = $"key {keyId} revoked; its mirror left matching" };
    }

    public override async Task<AdminActionReply> BlacklistKey(BlacklistKeyRequest request, ServerCallContext context)
    {
        var keyId = KeyId(request.KeyId);
        var duration = Duration(request.Duration);
        var id = await keys.BlacklistKeyAsync(keyId, Reason(request.Reason, null), duration, context.CancellationToken);
        return new AdminActionReply { AuditId = (ulong)id, Summary = $"key {keyId} blacklisted {For(duration)}" };
    }

    public override async Task<AdminActionReply> UnblacklistKey(UnblacklistKeyRequest request, ServerCallContext context)
    {
        var keyId = KeyId(request.KeyId);
        var id = await keys.UnblacklistKeyAsync(keyId, Reason(request.Reason, "lifted by staff"), context.CancellationToken);
        return new AdminActionReply { AuditId = (ulong)id, Summary = $"key {keyId} no longer blacklisted" };
    }

    public override async Task<AdminActionReply> BlacklistNetwork(BlacklistNetworkRequest request, ServerCallContext context)
    {
        var network = Network(request.Prefix);
        var duration = Duration(request.Duration);
        var id = await keys.BlacklistNetworkAsync(network, Reason(request.Reason, null), duration, context.CancellationToken);
        return new AdminActionReply { AuditId = (ulong)id, Summary = $"network {network} blacklisted {For(duration)}" };
    }

    public override async Task<AdminActionReply> UnblacklistNetwork(UnblacklistNetworkRequest request, ServerCallContext context)
    {
        var network = Network(request.Prefix);
        var id = await keys.UnblacklistNetworkAsync(network, Reason(request.Reason, "lifted by staff"), context.CancellationToken);
        return new AdminActionReply { AuditId = (ulong)id, Summary = $"network {network} no longer blacklisted" };
    }

    public override Task<ListBlacklistReply> ListBlacklist(ListBlacklistRequest request, ServerCallContext context)
    {
        var reply = new ListBlacklistReply();
        foreach (var entry in keys.ListBlacklist())
        {
            var item = new BlacklistEntry { Reason = entry.Reason, Since = Timestamp.FromDateTimeOffset(entry.Since) };
            if (entry.Kind == BlacklistKind.Key)
            {
                item.KeyId = entry.Subject;
            }
            else
            {
                item.Prefix = entry.Subject;
            }

            if (entry.Until is { } until)
            {
                item.Until = Timestamp.FromDateTimeOffset(until);
            }

            reply.Entries.Add(item);
        }

        return Task.FromResult(reply);
    }

    public override Task<ListQuarantineReply> ListQuarantine(ListQuarantineRequest request, ServerCallContext context)
    {
        var reply = new ListQuarantineReply();
        reply.Entries.AddRange(quarantine.List().Select(q => new QuarantineEntry
        {
            KeyId = q.KeyId,
            Reason = q.Reason,
            Since = Timestamp.FromDateTimeOffset(q.Since),
            ReportingClients = (uint)q.ReportingClients,
        }));
        return Task.FromResult(reply);
    }

    public override async Task<AdminActionReply> ReleaseQuarantine(ReleaseQuarantineRequest request, ServerCallContext context)
    {
        var keyId = KeyId(request.KeyId);
        var id = await quarantine.ReleaseAsync(keyId, Reason(request.Reason, "released by staff"), AuditRecord.Admin, context.CancellationToken);
        return new AdminActionReply { AuditId = (ulong)id, Summary = $"mirror {keyId} released from quarantine" };
    }

    public override async Task<GetStatsReply> GetStats(GetStatsRequest request, ServerCallContext context)
    {
        var reply = new GetStatsReply { StartedAt = Timestamp.FromDateTimeOffset(metrics.StartedAt), CoordinatorId = role.Id };
        foreach (var (name, value) in metrics.Flatten())
        {
            reply.Values[name] = value;
        }

        foreach (var c in await role.ListAsync(context.CancellationToken))
        {
            reply.Coordinators.Add(new CoordinatorInfo
            {
                Id = c.Id,
                PublicAddress = c.PublicAddress,
                AdminAddress = c.AdminAddress,
                StartedAt = Timestamp.FromDateTimeOffset(c.StartedAt),
                HeartbeatAge = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(c.HeartbeatAge),
                Sessions = (uint)Math.Max(0, c.SessionsPinged),
                Live = c.HeartbeatAge < clusterOptions.DeadAfter,
            });
        }

        return reply;
    }

    public override async Task<ListAuditReply> ListAudit(ListAuditRequest request, ServerCallContext context)
    {
        var limit = request.Limit == 0 ? 100 : (int)Math.Min(request.Limit, 10_000);
        var reply = new ListAuditReply();
        reply.Entries.AddRange((await store.ListAuditAsync(limit, (long)Math.Min(request.BeforeId, long.MaxValue), context.CancellationToken)).Select(ToEntry));
        return reply;
    }

    public override async Task WatchAudit(WatchAuditRequest request, IServerStreamWriter<AuditEntry> responseStream, ServerCallContext context)
    {
        using var subscription = audit.Watch();
        long last = 0;
        if (request.Tail > 0)
        {
            var tail = await store.ListAuditAsync((int)Math.Min(request.Tail, 10_000), 0, context.CancellationToken);
            foreach (var entry in tail.Reverse())
            {
                await responseStream.WriteAsync(ToEntry(entry), context.CancellationToken);
                last = entry.Id;
            }
        }

        try
        {
            await foreach (var entry in subscription.Reader.ReadAllAsync(context.CancellationToken))
            {
                if (entry.Id > last)
                {
                    await responseStream.WriteAsync(ToEntry(entry), context.CancellationToken);
                    last = entry.Id;
                }
            }
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
            // The watcher left.
        }
    }

    private static AuditEntry ToEntry(AuditRecord record) => new()
    {
        Id = (ulong)record.Id,
        At = Timestamp.FromDateTimeOffset(record.At),
        Actor = record.Actor,
        Action = record.Action,
        Subject = record.Subject,
        Reason = record.Reason,
    };

    private static string KeyId(string keyId)
    {
        var trimmed = keyId.Trim().ToLowerInvariant();
        if (!KeyMaterial.IsWellFormed(trimmed, KeyMaterial.IdLength))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"key_id {InputText.Quote(keyId)} is not a key id (32 hex characters)"));
        }

        return trimmed;
    }

    private static System.Net.IPNetwork Network(string prefix)
    {
        if (!SourceNetwork.TryParseCidr(prefix.Trim(), out var network, out var error))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, error));
        }

        return network;
    }

    private static string Reason(string reason, string? fallback)
    {
        if (reason.Length > MaxReasonLength)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"reason is longer than {MaxReasonLength} characters"));
        }

        if (string.IsNullOrWhiteSpace(reason))
        {
            return fallback ?? throw new RpcException(new Status(StatusCode.InvalidArgument, "a reason is required"));
        }

        return reason.Trim();
    }

    private static TimeSpan? Duration(Google.Protobuf.WellKnownTypes.Duration? duration)
    {
        if (duration is null)
        {
            return null;
        }

        if (duration.Seconds == 0 && duration.Nanos == 0)
        {
            return null;
        }

        return FieldRules.CheckDuration("duration", duration, MaxDuration);
    }

    private static string For(TimeSpan? duration) => duration is { } d ? $"for {d.TotalDays:0.##} days" : "until lifted";
}
