using AdHocMirror.Contracts;
using AdHocMirror.Contracts.V1;
using AdHocMirror.Sync.Configuration;
using Grpc.Core;
using TreeVersion = AdHocMirror.Tree.Versions.TreeVersion;
using MatchingClient = AdHocMirror.Contracts.V1.Matching.MatchingClient;
using AdHocMirror.Clients;

namespace AdHocMirror.Sync.Discovery;

/// <summary>
/// Asks the coordinator for newer nearby mirrors; when it cannot be reached, plans the official mirrors alone.
/// When the coordinator says this network asks too often (RESOURCE_EXHAUSTED with <c>grpc-retry-pushback-ms</c>),
/// waits as told and asks again if that fits in the coordinator timeout; else plans the official mirrors, saying why.
/// </summary>
public sealed class MirrorDiscovery(SyncOptions options, MatchingClient? matching, Action<string>? say = null)
{
    public const string RetryPushbackTrailer = "grpc-retry-pushback-ms";

    public async Task<SourcePlan> FindAsync(TreeVersion? current, CancellationToken cancellationToken)
    {
        var configuredOfficial = options.Official.Select(u => new SyncSource(u, IsOfficial: true)).ToList();
        if (matching is null)
        {
            return new SourcePlan([], configuredOfficial) { CoordinatorError = "no coordinator configured" };
        }

        var request = new FindMirrorRequest
        {
            Protocol = options.Protocol,
            Current = current?.ToContract(options.Protocol),
            Hint = options.Near,
            Count = options.Candidates,
        };
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        // With several coordinators listed, the first attempt gets half the time: one that accepts the call but does
        // not answer is set aside by the channel, and the second attempt goes to the next coordinator.
        var nextOnDeadline = options.Coordinators is { Targets.Count: > 1 };
        FindMirrorReply reply;
        while (true)
        {
            var left = options.CoordinatorTimeout - System.Diagnostics.Stopwatch.GetElapsedTime(started);
            var attempt = nextOnDeadline ? left / 2 : left;
            try
            {
                reply = await matching.FindMirrorAsync(request, Calls.WithTimeout(attempt > TimeSpan.Zero ? attempt : TimeSpan.FromMilliseconds(1), cancellationToken: cancellationToken));
                break;
            }
            catch (RpcException rpc) when (rpc.StatusCode == StatusCode.DeadlineExceeded && nextOnDeadline && !cancellationToken.IsCancellationRequested)
            {
                nextOnDeadline = false;
                say?.Invoke("a coordinator did not answer in time; asking the next");
            }
            catch (RpcException rpc) when (rpc.StatusCode == StatusCode.ResourceExhausted)
            {
                left = options.CoordinatorTimeout - System.Diagnostics.Stopwatch.GetElapsedTime(started);
                if (Pushback(rpc) is not { } wait)
                {
                    return Refused(configuredOfficial, $"the coordinator refused to match ({rpc.Status.Detail}) and gave no time to wait");
                }

                if (wait >= left)
                {
                    return Refused(configuredOfficial,
                        $"the coordinator limits how often this network may ask ({rpc.Status.Detail}); waiting {Seconds(wait)} would pass the coordinator timeout ({Seconds(options.CoordinatorTimeout)})");
                }

                say?.Invoke($"the coordinator asks this network to wait {Seconds(wait)} before asking again; waiting");
                await Task.Delay(wait, cancellationToken);
            }
            catch (Exception e) when (e is RpcException or HttpRequestException or IOException or TimeoutException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                return new SourcePlan([], configuredOfficial) { CoordinatorError = e is RpcException rpc ? $"{rpc.StatusCode}: {rpc.Status.Detail}" : e.Message };
            }
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

    /// <summary>The wait gRFC A6 asks for; null when absent or not a non-negative whole number of milliseconds (then: do not retry).</summary>
    public static TimeSpan? Pushback(RpcException rpc) =>
        rpc.Trailers.GetValue(RetryPushbackTrailer) is { } text
        && long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var ms)
        && ms <= (long)TimeSpan.FromDays(1).TotalMilliseconds
            ? TimeSpan.FromMilliseconds(ms)
            : null;

    private static SourcePlan Refused(List<SyncSource> official, string why) =>
        new([], official) { CoordinatorError = why, CoordinatorRefused = true };

    private static string Seconds(TimeSpan time) => time.TotalSeconds.ToString("0.#", System.Globalization.CultureInfo.InvariantCulture) + " s";
}
