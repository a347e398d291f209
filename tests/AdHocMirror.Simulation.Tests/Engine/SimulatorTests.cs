using System.Text.Json;
using AdHocMirror.Simulation.Engine;
using AdHocMirror.Simulation.Results;

namespace AdHocMirror.Simulation.Tests.Engine;

public sealed class SimulatorTests
{
    [Fact]
    public async Task No_volunteer_is_ever_offered_beyond_its_limit()
    {
        // Few, small volunteers and a short lease: the places run out, and must never be over-assigned.
        var report = await Simulator.RunOnceAsync(Small.Options(o =>
        {
            o.Volunteers = 0.01;
            o.VolunteerMinClients = 1;
            o.VolunteerMaxClients = 2;
            o.Coordinator.Matching.OfficialMarginKm = 0;
            o.Coordinator.Matching.LeaseTtl = TimeSpan.FromSeconds(30);
        }));

        Assert.True(report.Offers > 100, $"only {report.Offers} offers");
        Assert.Equal(0, report.OverLimitOffers);
        Assert.True(report.PeakOverLimitRatio <= 1, $"a volunteer had {report.PeakOverLimitRatio}× its limit");
    }

    [Fact]
    public async Task Without_volunteers_every_sync_goes_to_an_official_mirror()
    {
        var report = await Simulator.RunOnceAsync(Small.Options(o => o.Volunteers = 0));

        Assert.True(report.Syncs > 1000, $"only {report.Syncs} syncs");
        Assert.Equal(0, report.ServedByVolunteers);
        Assert.Equal(report.Syncs, report.ServedByOfficial);
        Assert.Equal(0, report.Offers);
    }

    [Fact]
    public async Task With_volunteers_everywhere_and_no_faults_their_share_rises_with_their_number()
    {
        var shares = new List<double>();
        foreach (var volunteers in (double[])[0.005, 0.02, 0.08])
        {
            var report = await Simulator.RunOnceAsync(Small.Options(o =>
            {
                o.Volunteers = volunteers;
                o.Dead = o.Stale = o.Malicious = 0;
                o.VolunteerOnline = 1;
                o.VolunteerPresence = 1;
                o.Coordinator.Matching.OfficialMarginKm = 0;
            }));
            shares.Add(report.VolunteerServedShare);
        }

        Assert.True(shares[0] < shares[1] && shares[1] < shares[2], $"shares {string.Join(", ", shares)}");
        Assert.True(shares[0] > 0, "the fewest volunteers served nothing");
    }

    [Fact]
    public async Task Faulty_volunteers_are_caught_by_the_real_quarantine()
    {
        var report = await Simulator.RunOnceAsync(Small.Options(o =>
        {
            o.Volunteers = 0.05;
            o.Malicious = 0.2;
            o.Stale = 0.2;
            o.Dead = 0;
            o.Coordinator.Matching.OfficialMarginKm = 0;
        }));

        Assert.True(report.Quarantined > 0, "nobody was quarantined");
        Assert.Equal(report.Quarantined, report.QuarantinedFaulty);
        Assert.True(report.StaleOffers > 0);
        Assert.True(report.Fallbacks > 0);
    }

    [Fact]
    public async Task A_seed_gives_the_same_figures()
    {
        var first = await Simulator.RunAsync(Small.Options(o => o.Seed = 7));
        var second = await Simulator.RunAsync(Small.Options(o => o.Seed = 7));

        Assert.Equal(Figures(first), Figures(second));
    }

    private static string Figures(SimulationReport report) => JsonSerializer.Serialize(
        report with
        {
            WithVolunteers = report.WithVolunteers with { ElapsedSeconds = 0 },
            OfficialOnly = report.OfficialOnly with { ElapsedSeconds = 0 },
        },
        SimulationReport.Json);
}
