using AdHocMirror.Contracts.V1;

namespace AdHocMirror.Simulation.Engine;

/// <summary>Asking the coordinator, and checking its offers against what the simulation knows to be true.</summary>
internal sealed partial class SwarmRun
{
    /// <summary>FindMirror, as ahm-sync asks it; false when the answer is "up to date".</summary>
    private bool AskCoordinator(SyncJob job, long now, bool probe)
    {
        _stats.FindMirrorCalled(now);
        var request = new FindMirrorRequest { Protocol = Protocol.Rsync, Count = _options.Candidates, Current = VersionOf(job.HaveTicks) };
        var reply = _coordinator.Find(request, job.Place);
        if (reply.UpToDate)
        {
            return false;
        }

        var volunteers = 0;
        foreach (var candidate in reply.Candidates)
        {
            if (!_byKey.TryGetValue(candidate.MirrorId, out var volunteer) || volunteer == job.Volunteer)
            {
                continue; // a daemon skips its own address
            }

            CheckOffer(volunteer, candidate.Version.Generated.ToDateTimeOffset().UtcTicks);
            job.Sources.Add(new Source(false, volunteer.Id, candidate.LeaseId, candidate.Version.Generated.ToDateTimeOffset().UtcTicks, candidate.DistanceKm));
            volunteers++;
        }

        if (job.Counted && job.Volunteer is null && volunteers == 0)
        {
            _stats.NoVolunteerOffered++;
        }

        if (probe && volunteers > 1)
        {
            Probe(job, Math.Min(volunteers, _options.ProbeCount));
        }

        foreach (var official in reply.Official)
        {
            if (_officialByReference.TryGetValue(official.Uri, out var index) || _officialByUri.TryGetValue(official.Uri, out index))
            {
                job.Sources.Add(new Source(true, index, null, 0, official.DistanceKm));
            }
        }

        return true;
    }

    /// <summary>The truth about an offer, which the coordinator can only estimate.</summary>
    private void CheckOffer(Volunteer volunteer, long promised)
    {
        if (!_stats.Counting)
        {
            return;
        }

        _stats.Offers++;
        if (volunteer.Connections >= volunteer.MaxClients)
        {
            _stats.OverLimitOffers++;
        }

        if (!volunteer.Up || volunteer.Zombie)
        {
            _stats.DeadOffers++;
        }
        else if (volunteer.ServedTicks < promised || volunteer.Fault == Fault.Malicious)
        {
            _stats.StaleOffers++;
        }
    }

    /// <summary>ahm-sync --probe: the first candidates reordered by a round trip (fibre at 2/3 c over 1.5× the great circle, plus the last mile).</summary>
    private void Probe(SyncJob job, int count)
    {
        Span<double> rtt = stackalloc double[count];
        for (var i = 0; i < count; i++)
        {
            rtt[i] = (job.Sources[i].DistanceKm * 2 * 1.5 / 200) + 5 + (_random.NextDouble() * 25);
        }

        for (var i = 1; i < count; i++)
        {
            for (var j = i; j > 0 && rtt[j] < rtt[j - 1]; j--)
            {
                (rtt[j], rtt[j - 1]) = (rtt[j - 1], rtt[j]);
                (job.Sources[j], job.Sources[j - 1]) = (job.Sources[j - 1], job.Sources[j]);
            }
        }
    }
}
