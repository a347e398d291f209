using System.Globalization;
using System.Net;
using AdHocMirror.Contracts.V1;
using AdHocMirror.Coordinator.Observability;
using Grpc.Core;

namespace AdHocMirror.Coordinator.Matching.Privacy;

/// <summary>
/// What FindMirror and ReportSync do for volunteers' privacy, behind two calls: admit a call (rate
/// limit, with a clear refusal) and learn from a report which volunteer failed for a network.
/// Counts what it withholds by cause.
/// </summary>
public sealed class MatchingPrivacy
{
    private readonly ClientNetworks _networks;
    private readonly FindMirrorRateLimit _rateLimit;
    private readonly RevealBudget _budget;
    private readonly PrivacyOptions _options;
    private readonly CoordinatorMetrics.Counter _refusals;

    public MatchingPrivacy(ClientNetworks networks, FindMirrorRateLimit rateLimit, RevealBudget budget, PrivacyOptions options, CoordinatorMetrics metrics)
    {
        _networks = networks;
        _rateLimit = rateLimit;
        _budget = budget;
        _options = options;
        _refusals = metrics.AddCounter(
            "ahm_findmirror_refusals_total",
            "FindMirror calls refused or held back, by cause: rate_limited (RESOURCE_EXHAUSTED), budget_spent (the network's reveal budget was spent and the answer had room), hint_ignored",
            "cause");
        // One table since both share the networks' records; the label is kept for dashboards that read it.
        metrics.AddGauge("ahm_privacy_networks", "Client networks remembered in memory (one record each for the reveal budget and the rate limit), by table", () =>
        [
            new("reveal_budget", budget.Networks),
            new("rate_limit", rateLimit.Networks),
        ], "table");
        metrics.AddGauge("ahm_reveal_budget_evictions", "Client networks the reveal budget forgot because it was full", () => [new(string.Empty, budget.Evicted)]);
    }

    /// <summary>Admits a FindMirror call from <paramref name="peer"/>: its network (null when neither budget nor limit is on).</summary>
    /// <exception cref="RpcException">RESOURCE_EXHAUSTED with the <c>grpc-retry-pushback-ms</c> trailer when its network asked too often.</exception>
    /// <param name="record">Where the network's record is (the rate limit's lookup), for the budget to start from.</param>
    public ClientNetwork? Admit(IPAddress? peer, out int record)
    {
        record = NoRecord;
        if (!_budget.Enabled && !_rateLimit.Enabled)
        {
            return null;
        }

        var network = _networks.Of(peer);
        if (!_rateLimit.TryTake(network, ref record, out var wait))
        {
            _refusals.Inc("rate_limited");
            var ms = Math.Max(1, (long)Math.Ceiling(wait.TotalMilliseconds));
            throw new RpcException(
                new Status(StatusCode.ResourceExhausted, string.Create(CultureInfo.InvariantCulture, $"too many FindMirror calls from your network (limit {_options.FindMirrorPerMinute} per minute); ask again in {ms / 1000.0:0.###} s")),
                new Metadata { { PrivacyOptions.RetryPushbackTrailer, ms.ToString(CultureInfo.InvariantCulture) } });
        }

        return network;
    }

    /// <summary>No record found yet: look the network up.</summary>
    public const int NoRecord = NetworkTable<NetworkRecord, string?>.NoSlot;

    public void Count(string cause) => _refusals.Inc(cause);

    /// <summary>A report from <paramref name="peer"/> about <paramref name="keyId"/>: a failure keeps that volunteer from its network this window.</summary>
    public void Reported(IPAddress? peer, string keyId, SyncOutcome outcome)
    {
        if (_budget.Enabled && outcome is not (SyncOutcome.Success or SyncOutcome.Abandoned))
        {
            _budget.RecordFailure(_networks.Of(peer), keyId);
        }
    }
}
