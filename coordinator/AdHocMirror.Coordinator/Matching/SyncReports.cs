using AdHocMirror.Contracts.V1;
using AdHocMirror.Coordinator.Mirrors;
using Microsoft.Extensions.Logging;

namespace AdHocMirror.Coordinator.Matching;

/// <summary>
/// Learns from clients whether mirrors' claims hold. Several distinct clients reporting a failed
/// verification, a rollback or a stale tree within the window quarantine a mirror; so do several
/// that could not get the advertised version from it while none could.
/// </summary>
public sealed partial class SyncReports(MatchingOptions options, MirrorQuarantine quarantine, TimeProvider clock, ILogger<SyncReports> logger)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, MirrorRecord> _mirrors = new(StringComparer.Ordinal);

    internal async Task RecordAsync(Lease lease, string clientTag, SyncOutcome outcome, TreeVersion? verified, CancellationToken cancellationToken)
    {
        if (outcome == SyncOutcome.Success && verified?.Generated is { } got && got.ToDateTimeOffset().UtcTicks < lease.PromisedTicks)
        {
            // Verified fine but older than advertised: the mirror's claim did not hold.
            outcome = SyncOutcome.Stale;
        }

        string? reason = null;
        int reporters = 0;
        var now = clock.GetUtcNow();
        lock (_gate)
        {
            if (!_mirrors.TryGetValue(lease.KeyId, out var record))
            {
                record = new MirrorRecord();
                _mirrors[lease.KeyId] = record;
            }

            record.Forget(now - options.ReportWindow);
            switch (outcome)
            {
                case SyncOutcome.Success:
                    record.Confirmed.Add(lease.PromisedTicks);
                    break;
                case SyncOutcome.VerificationFailed or SyncOutcome.Rollback or SyncOutcome.Stale:
                    record.Bad[clientTag] = (now, outcome);
                    if (record.Bad.Count >= options.QuarantineReports)
                    {
                        reporters = record.Bad.Count;
                        reason = $"{reporters} clients reported {Describe(record.Bad.Values.Select(v => v.Outcome))} within {options.ReportWindow.TotalMinutes:0} min";
                    }

                    break;
                case SyncOutcome.Unreachable or SyncOutcome.Timeout or SyncOutcome.Refused:
                    if (!record.Confirmed.Contains(lease.PromisedTicks))
                    {
                        record.Unconfirmed[clientTag] = (now, lease.PromisedTicks);
                        var sameVersion = record.Unconfirmed.Values.Count(v => v.Ticks == lease.PromisedTicks);
                        if (sameVersion >= options.UnconfirmedReports)
                        {
                            reporters = sameVersion;
                            reason = $"{sameVersion} clients could not get its advertised version and none could";
                        }
                    }

                    break;
            }

            if (reason is not null)
            {
                _mirrors.Remove(lease.KeyId);
            }
        }

        if (reason is not null && !quarantine.IsQuarantined(lease.KeyId))
        {
            LogQuarantine(logger, lease.KeyId, reason);
            await quarantine.QuarantineAsync(lease.KeyId, reason, reporters, "system", cancellationToken);
        }
    }

    private static string Describe(IEnumerable<SyncOutcome> outcomes) =>
        string.Join(", ", outcomes.Distinct().Select(o => o switch
        {
            SyncOutcome.VerificationFailed => "failed verification",
            SyncOutcome.Rollback => "rollback",
            _ => "stale tree",
        }));

    [LoggerMessage(Level = LogLevel.Warning, Message = "Quarantining mirror {KeyId}: {Reason}")]
    private static partial void LogQuarantine(ILogger logger, string keyId, string reason);

    private sealed class MirrorRecord
    {
        public Dictionary<string, (DateTimeOffset At, SyncOutcome Outcome)> Bad { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, (DateTimeOffset At, long Ticks)> Unconfirmed { get; } = new(StringComparer.Ordinal);

        public HashSet<long> Confirmed { get; } = [];

        public void Forget(DateTimeOffset before)
        {
            foreach (var (tag, (at, _)) in Bad)
            {
                if (at < before)
                {
                    Bad.Remove(tag);
                }
            }

            foreach (var (tag, (at, _)) in Unconfirmed)
            {
                if (at < before)
                {
                    Unconfirmed.Remove(tag);
                }
            }
        }
    }
}
