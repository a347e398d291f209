using AdHocMirror.Contracts.V1;
using AdHocMirror.Coordinator.Geo;

namespace AdHocMirror.Simulation.Engine;

/// <summary>Volunteers' days: machines coming on and going off, daemons logging in, syncing, answering pings, dying, leaving.</summary>
internal sealed partial class SwarmRun
{
    private void AddVolunteer(bool newcomer)
    {
        var random = _volunteerRandom;
        var id = _volunteers.Count;
        var place = _population.DrawPlace(random);
        var maxClients = random.Next(_options.VolunteerMinClients, _options.VolunteerMaxClients + 1);
        var uplink = _options.VolunteerUplinkMinMbps * Math.Pow(_options.VolunteerUplinkMaxMbps / _options.VolunteerUplinkMinMbps, random.NextDouble());
        var f = random.NextDouble();
        var fault = f < _options.Dead ? Fault.Dead
            : f < _options.Dead + _options.Stale ? Fault.Stale
            : f < _options.Dead + _options.Stale + _options.Malicious ? Fault.Malicious
            : Fault.None;
        var swarm = random.NextDouble() < _options.SwarmUpstream;

        // Home machines are on around the local evening: a window of the online share centred near 18:00 local.
        var centreLocalHour = 18 + ((random.NextDouble() - 0.5) * 6);
        var startUtcHour = centreLocalHour - (_options.VolunteerOnline * 12) - (place.Longitude / 15);
        var start = ((startUtcHour % 24) + 24) % 24 * 3600;
        var volunteer = new Volunteer(id, place, maxClients, uplink, fault, swarm, start);
        if (!newcomer)
        {
            volunteer.ServedTicks = volunteer.AdvertisedTicks = UpstreamAt(_start - (long)(random.NextDouble() * TimeSpan.TicksPerDay));
        }

        volunteer.KeyId = _coordinator.Register(PeerOf(id));
        _volunteers.Add(volunteer);
        _byKey[volunteer.KeyId] = volunteer;
        _pingBuckets[id % PingSlots].Add(volunteer);
    }

    private void StartDay(int day, long now)
    {
        Schedule(now + TimeSpan.TicksPerDay, Kind.DayStart, day + 1, 0);
        if (day > 0)
        {
            var leaving = _volunteers.Where(v => !v.Retired && _volunteerRandom.NextDouble() < _options.VolunteerChurn).ToList();
            foreach (var volunteer in leaving)
            {
                if (volunteer.Up)
                {
                    _coordinator.Logout(volunteer.KeyId!, volunteer.SessionId!);
                    volunteer.SetUp(false, now);
                }

                volunteer.Retired = true;
                AddVolunteer(newcomer: true);
            }
        }

        var length = (long)(_options.VolunteerOnline * TimeSpan.TicksPerDay);
        foreach (var volunteer in _volunteers)
        {
            if (volunteer.Retired || _volunteerRandom.NextDouble() >= _options.VolunteerPresence)
            {
                continue;
            }

            var up = now + (long)(volunteer.WindowStartSecond * TimeSpan.TicksPerSecond);
            if (day == 0 && up - TimeSpan.TicksPerDay + length > now)
            {
                // Yesterday's window still open when the run starts.
                Schedule(now, Kind.VolunteerUp, volunteer.Id, -1);
                Schedule(up - TimeSpan.TicksPerDay + length, Kind.VolunteerDown, volunteer.Id, -1);
            }

            Schedule(up, Kind.VolunteerUp, volunteer.Id, day);
            if (_options.VolunteerOnline < 1)
            {
                Schedule(up + length, Kind.VolunteerDown, volunteer.Id, day);
            }
        }
    }

    private void VolunteerUp(Volunteer volunteer, int day, long now)
    {
        if (volunteer.Retired)
        {
            return;
        }

        volunteer.WindowDay = day;
        if (volunteer.Up && !volunteer.Zombie)
        {
            return;
        }

        // A new login supersedes a dead machine's session, as a restarted daemon's does.
        volunteer.Account(now);
        volunteer.Zombie = false;
        volunteer.Logins++;
        var version = volunteer.AdvertisedTicks > 0 ? VersionOf(volunteer.AdvertisedTicks) : null;
        volunteer.SessionId = _coordinator.Login(volunteer.KeyId!, volunteer.Logins, volunteer.Place, (uint)volunteer.MaxClients, version, PeerOf(volunteer.Id));
        volunteer.ReportedConnections = 0;
        volunteer.SetUp(true, now);
        volunteer.Syncing = false;
        StartVolunteerSync(volunteer, volunteer.Logins, now);
    }

    private void VolunteerDown(Volunteer volunteer, int day, long now)
    {
        if (volunteer.WindowDay != day || !volunteer.Up || volunteer.Zombie)
        {
            return;
        }

        if (volunteer.Fault == Fault.Dead)
        {
            volunteer.Account(now);
            volunteer.Zombie = true; // no logout: the coordinator learns it from pings
            return;
        }

        _coordinator.Logout(volunteer.KeyId!, volunteer.SessionId!);
        volunteer.SetUp(false, now);
    }

    /// <summary>
    /// One slot of pings. A ping that would change nothing (answered, same connection count, mirror already online)
    /// is skipped: the directory would only update its last-ping time, which matching never reads.
    /// </summary>
    private void PingRound(int slot, long now)
    {
        Schedule(now + _pingSlotTicks, Kind.PingRound, (slot + 1) % PingSlots, 0);
        foreach (var volunteer in _pingBuckets[slot])
        {
            if (!volunteer.Up || volunteer.Retired)
            {
                continue;
            }

            if (volunteer.Zombie)
            {
                _coordinator.Ping(volunteer.KeyId!, volunteer.SessionId!, 0, answered: false);
            }
            else if (volunteer.Connections != volunteer.ReportedConnections)
            {
                _coordinator.Ping(volunteer.KeyId!, volunteer.SessionId!, volunteer.Connections, answered: true);
                volunteer.ReportedConnections = volunteer.Connections;
            }
        }
    }

    private void StartVolunteerSync(Volunteer volunteer, int login, long now)
    {
        if (login != volunteer.Logins || !volunteer.Up || volunteer.Zombie || volunteer.Retired || volunteer.Syncing)
        {
            return;
        }

        volunteer.Syncing = true;
        var job = Rent();
        job.Client = -1;
        job.Volunteer = volunteer;
        job.Place = volunteer.Place;
        job.HaveTicks = volunteer.AdvertisedTicks;
        job.Counted = _stats.Counting;
        if (volunteer.SwarmUpstream)
        {
            if (!AskCoordinator(job, now, probe: false))
            {
                if (job.Counted)
                {
                    _stats.VolunteerSyncsUpToDate++;
                }

                volunteer.Syncing = false;
                job.Reset();
                _pool.Push(job);
                Schedule(now + _options.VolunteerSyncInterval.Ticks, Kind.VolunteerSync, volunteer.Id, login);
                return;
            }
        }
        else
        {
            AddOfficialsNearestFirst(job);
        }

        TryNext(job, now);
    }

    private void FinishVolunteerSync(SyncJob job, Volunteer volunteer, Source? source, long now)
    {
        volunteer.Syncing = false;
        if (source is { } from)
        {
            if (job.Counted)
            {
                if (from.IsOfficial)
                {
                    _stats.VolunteerSyncsFromOfficial++;
                }
                else
                {
                    _stats.VolunteerSyncsFromVolunteers++;
                }
            }

            // A stale volunteer keeps serving the first tree it had while it advertises every new one.
            if (volunteer.Fault != Fault.Stale || volunteer.ServedTicks == 0)
            {
                volunteer.ServedTicks = job.ReceivedTicks;
            }

            if (job.ReceivedTicks > volunteer.AdvertisedTicks)
            {
                volunteer.AdvertisedTicks = job.ReceivedTicks;
                if (volunteer.Up && !volunteer.Zombie)
                {
                    _coordinator.ReportVersion(volunteer.KeyId!, volunteer.SessionId!, VersionOf(volunteer.AdvertisedTicks));
                }
            }
        }
        else if (job.Counted)
        {
            _stats.VolunteerSyncsFailed++;
        }

        Schedule(now + _options.VolunteerSyncInterval.Ticks, Kind.VolunteerSync, volunteer.Id, volunteer.Logins);
    }

    /// <summary>A daemon whose upstream is the official rotation: the nearest official mirror first.</summary>
    private void AddOfficialsNearestFirst(SyncJob job)
    {
        var place = job.Place;
        Span<(double Km, int Index)> order = _officials.Length <= 256 ? stackalloc (double, int)[_officials.Length] : new (double, int)[_officials.Length];
        for (var i = 0; i < _officials.Length; i++)
        {
            order[i] = (_officials[i].Place is { } at ? GreatCircle.DistanceKm(place.Latitude, place.Longitude, at.Latitude, at.Longitude) : double.MaxValue, i);
        }

        order.Sort();
        foreach (var (km, index) in order)
        {
            job.Sources.Add(new Source(true, index, null, 0, km == double.MaxValue ? 0 : km));
        }
    }
}
