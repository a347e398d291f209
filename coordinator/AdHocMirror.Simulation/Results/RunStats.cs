namespace AdHocMirror.Simulation.Results;

/// <summary>What one run counts while it goes; only what happens after the warm-up.</summary>
internal sealed class RunStats
{
    public const int MinutesPerDay = 1440;

    public bool Counting { get; set; }

    public long Syncs { get; set; }

    public long ByVolunteers { get; set; }

    public long ByOfficial { get; set; }

    public long Failed { get; set; }

    public long Fallbacks { get; set; }

    public long NoVolunteerOffered { get; set; }

    public long VolunteerSyncsFromOfficial { get; set; }

    public long VolunteerSyncsFromVolunteers { get; set; }

    public long VolunteerSyncsUpToDate { get; set; }

    public long VolunteerSyncsFailed { get; set; }

    public long Offers { get; set; }

    public long OverLimitOffers { get; set; }

    public long StaleOffers { get; set; }

    public long DeadOffers { get; set; }

    public long RefusedAtLimit { get; set; }

    public long OfficialRefused { get; set; }

    public long FindMirrorCalls { get; set; }

    public List<float> Distances { get; } = [];

    public double[] OfficialLoadByMinute { get; } = new double[MinutesPerDay];

    public int[] SamplesByMinute { get; } = new int[MinutesPerDay];

    public int OfficialPeak { get; private set; }

    public double OfficialConnectionSeconds { get; private set; }

    public long CountedSince { get; private set; }

    private int _official;
    private long _officialSince;
    private long _second = -1;
    private int _callsThisSecond;
    private long _minute = -1;
    private int _callsThisMinute;

    public int PeakCallsPerSecond { get; private set; }

    public int PeakCallsPerMinute { get; private set; }

    public int OfficialNow => _official;

    public void Start(long now)
    {
        Counting = true;
        CountedSince = now;
        AccountOfficial(now);
        OfficialConnectionSeconds = 0;
        OfficialPeak = _official;
    }

    public void OfficialChanged(long now, int by)
    {
        AccountOfficial(now);
        _official += by;
        if (Counting)
        {
            OfficialPeak = Math.Max(OfficialPeak, _official);
        }
    }

    public void AccountOfficial(long now)
    {
        OfficialConnectionSeconds += _official * (now - _officialSince) / (double)TimeSpan.TicksPerSecond;
        _officialSince = now;
    }

    public void FindMirrorCalled(long now)
    {
        if (!Counting)
        {
            return;
        }

        FindMirrorCalls++;
        var second = now / TimeSpan.TicksPerSecond;
        _callsThisSecond = second == _second ? _callsThisSecond + 1 : 1;
        _second = second;
        PeakCallsPerSecond = Math.Max(PeakCallsPerSecond, _callsThisSecond);
        var minute = second / 60;
        _callsThisMinute = minute == _minute ? _callsThisMinute + 1 : 1;
        _minute = minute;
        PeakCallsPerMinute = Math.Max(PeakCallsPerMinute, _callsThisMinute);
    }

    public void Sample(long now)
    {
        if (!Counting)
        {
            return;
        }

        var minute = (int)(now / TimeSpan.TicksPerMinute % MinutesPerDay);
        OfficialLoadByMinute[minute] += _official;
        SamplesByMinute[minute]++;
    }
}
