using AdHocMirror.Contracts.V1;

namespace AdHocMirror.Simulation.Engine;

/// <summary>Trying sources in order, as ahm-sync and the daemon do: connect, transfer, verify, report, next.</summary>
internal sealed partial class SwarmRun
{
    private void TryNext(SyncJob job, long now)
    {
        while (job.Next < job.Sources.Count)
        {
            var source = job.Sources[job.Next++];
            job.Current = source;
            job.Connected = false;
            if (!source.IsOfficial)
            {
                var volunteer = _volunteers[source.Index];
                job.TriedVolunteer = true;
                if (!volunteer.Up || volunteer.Zombie)
                {
                    End(job, SyncOutcome.Unreachable, now + Seconds(_options.ConnectTimeoutSeconds));
                    return;
                }

                if (volunteer.Connections >= volunteer.MaxClients)
                {
                    // rsync's "max connections" turns the client away at once.
                    if (job.Counted)
                    {
                        _stats.RefusedAtLimit++;
                    }

                    End(job, SyncOutcome.Refused, now + TimeSpan.TicksPerSecond);
                    return;
                }

                volunteer.Connect(now);
                job.Connected = true;
                job.ReceivedTicks = volunteer.ServedTicks;
                var outcome = volunteer.Fault == Fault.Malicious ? SyncOutcome.VerificationFailed
                    : volunteer.ServedTicks < source.PromisedTicks || volunteer.ServedTicks <= job.HaveTicks ? SyncOutcome.Stale
                    : SyncOutcome.Success;
                var rate = Math.Min(_options.ClientDownlinkMbps, volunteer.UplinkMbps / volunteer.Connections);
                End(job, outcome, now + TransferTicks(job.HaveTicks, volunteer.ServedTicks, rate));
                return;
            }

            var official = _officials[source.Index];
            if (official.Connections >= _options.OfficialMaxConnections)
            {
                if (job.Counted)
                {
                    _stats.OfficialRefused++;
                }

                continue;
            }

            official.Connections++;
            if (_stats.Counting)
            {
                official.PeakConnections = Math.Max(official.PeakConnections, official.Connections);
            }

            _stats.OfficialChanged(now, +1);
            job.Connected = true;
            job.ReceivedTicks = UpstreamAt(now);
            var officialRate = Math.Min(_options.ClientDownlinkMbps, _options.OfficialUplinkMbps / official.Connections);
            End(job, SyncOutcome.Success, now + TransferTicks(job.HaveTicks, job.ReceivedTicks, officialRate));
            return;
        }

        Finish(job, null, now);
    }

    private void End(SyncJob job, SyncOutcome outcome, long at)
    {
        job.Outcome = outcome;
        Schedule(at, Kind.AttemptEnd, 0, 0, job);
    }

    private void EndAttempt(SyncJob job, long now)
    {
        var source = job.Current;
        if (job.Connected)
        {
            if (source.IsOfficial)
            {
                _officials[source.Index].Connections--;
                _stats.OfficialChanged(now, -1);
            }
            else
            {
                _volunteers[source.Index].Disconnect(now);
            }
        }

        if (source.LeaseId is { } lease)
        {
            var verified = job.Outcome is SyncOutcome.Success or SyncOutcome.Stale ? VersionOf(job.ReceivedTicks) : null;
            _coordinator.Report(lease, ReporterOf(job), job.Outcome, verified);
        }

        if (job.Outcome == SyncOutcome.Success)
        {
            Finish(job, source, now);
        }
        else
        {
            TryNext(job, now);
        }
    }

    /// <summary>The end of a sync; <paramref name="source"/> is where the tree came from, null when nothing worked.</summary>
    private void Finish(SyncJob job, Source? source, long now)
    {
        if (job.Volunteer is { } volunteer)
        {
            FinishVolunteerSync(job, volunteer, source, now);
        }
        else if (source is { } from)
        {
            _clientHave[job.Client] = job.ReceivedTicks;
            if (job.Counted)
            {
                _stats.Syncs++;
                _stats.Distances.Add((float)from.DistanceKm);
                if (from.IsOfficial)
                {
                    _stats.ByOfficial++;
                    if (job.TriedVolunteer)
                    {
                        _stats.Fallbacks++;
                    }
                }
                else
                {
                    _stats.ByVolunteers++;
                    _volunteers[from.Index].Served++;
                }
            }
        }
        else if (job.Counted)
        {
            _stats.Syncs++;
            _stats.Failed++;
        }

        job.Reset();
        _pool.Push(job);
    }

    /// <summary>What rsync moves: the file list, plus the changes since the tree it has (the whole tree when it has none).</summary>
    private long TransferTicks(long haveTicks, long getTicks, double mbps)
    {
        var behindDays = Math.Max(0, (getTicks - haveTicks) / (double)TimeSpan.TicksPerDay);
        var megabytes = _options.FileListMb + (haveTicks <= 0 ? _options.TreeMb : Math.Min(_options.TreeMb, _options.ChangeMbPerDay * behindDays));
        return Seconds(_options.SetupSeconds + (megabytes * 8 / Math.Max(0.001, mbps)));
    }

    private static long Seconds(double seconds) => (long)(seconds * TimeSpan.TicksPerSecond);
}
