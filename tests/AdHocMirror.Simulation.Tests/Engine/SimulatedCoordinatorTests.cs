using System.Net;
using AdHocMirror.Contracts.V1;
using AdHocMirror.Coordinator.Geo;
using AdHocMirror.Coordinator.Hosting;
using AdHocMirror.Simulation.Engine;
using AdHocMirror.Testing;
using Google.Protobuf.WellKnownTypes;

namespace AdHocMirror.Simulation.Tests.Engine;

/// <summary>
/// The simulation's coordinator is the real one: these pin the matching behaviour the simulation relies on, so a
/// change in matching shows up here (and in the simulation's figures), not as a silent divergence of a copy.
/// </summary>
public sealed class SimulatedCoordinatorTests
{
    private static readonly GeoPlace Munich = new(48.14, 11.58, "Munich");
    private static readonly GeoPlace Augsburg = new(48.37, 10.90, "Augsburg");
    private static readonly DateTimeOffset Old = new(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset New = new(2026, 12, 2, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task A_limit_of_zero_is_never_offered_and_a_limit_of_one_once_until_reported()
    {
        using var coordinator = await StartAsync(new ManualClock(New.AddHours(1)));
        var full = coordinator.Register(IPAddress.Parse("2001:db8:1::1"));
        coordinator.Login(full, 1, Augsburg, 0, Version(New), IPAddress.Parse("2001:db8:1::1"));
        Assert.Empty(coordinator.Find(Request(Old), Munich).Candidates);

        var one = coordinator.Register(IPAddress.Parse("2001:db8:2::1"));
        coordinator.Login(one, 1, Augsburg, 1, Version(New), IPAddress.Parse("2001:db8:2::1"));
        var first = Assert.Single(coordinator.Find(Request(Old), Munich).Candidates);
        Assert.Equal(one, first.MirrorId);
        Assert.Empty(coordinator.Find(Request(Old), Munich).Candidates);

        Assert.True(coordinator.Report(first.LeaseId, IPAddress.Parse("2001:db8:ffff::1"), SyncOutcome.Success, Version(New)));
        Assert.Equal(one, Assert.Single(coordinator.Find(Request(Old), Munich).Candidates).MirrorId);
    }

    [Fact]
    public async Task A_volunteer_no_nearer_than_the_official_margin_is_not_offered()
    {
        var options = new CoordinatorOptions();
        options.Matching.Official = [new() { Name = "official", Uri = "rsync://official.invalid/gentoo-portage", Latitude = 48.2, Longitude = 11.6 }];
        using var coordinator = await SimulatedCoordinator.StartAsync(options, new ManualClock(New.AddHours(1)));
        var key = coordinator.Register(IPAddress.Parse("2001:db8:3::1"));
        coordinator.Login(key, 1, Augsburg, 8, Version(New), IPAddress.Parse("2001:db8:3::1"));

        var reply = coordinator.Find(Request(Old), Munich);
        Assert.Empty(reply.Candidates);
        Assert.Equal("rsync://official.invalid/gentoo-portage", Assert.Single(reply.Official).Uri);
    }

    [Fact]
    public async Task Three_distinct_clients_reporting_a_stale_tree_quarantine_the_mirror()
    {
        using var coordinator = await StartAsync(new ManualClock(New.AddHours(1)));
        var key = coordinator.Register(IPAddress.Parse("2001:db8:4::1"));
        coordinator.Login(key, 1, Augsburg, 16, Version(New), IPAddress.Parse("2001:db8:4::1"));
        for (var client = 0; client < 3; client++)
        {
            var candidate = Assert.Single(coordinator.Find(Request(Old), Munich).Candidates);
            coordinator.Report(candidate.LeaseId, IPAddress.Parse($"2001:db8:ffff::{client + 1}"), SyncOutcome.Stale, Version(Old));
        }

        Assert.True(coordinator.Quarantine.IsQuarantined(key));
        Assert.Empty(coordinator.Find(Request(Old), Munich).Candidates);
    }

    [Fact]
    public async Task Unanswered_pings_take_a_dead_volunteer_out_of_matching()
    {
        var clock = new ManualClock(New.AddHours(1));
        using var coordinator = await StartAsync(clock);
        var key = coordinator.Register(IPAddress.Parse("2001:db8:5::1"));
        var session = coordinator.Login(key, 1, Augsburg, 16, Version(New), IPAddress.Parse("2001:db8:5::1"));
        var lease = Assert.Single(coordinator.Find(Request(Old), Munich).Candidates).LeaseId;
        coordinator.Report(lease, IPAddress.Parse("2001:db8:ffff::1"), SyncOutcome.Success, Version(New));
        for (var i = 0; i < 3; i++)
        {
            coordinator.Ping(key, session, 0, answered: false);
        }

        Assert.Empty(coordinator.Find(Request(Old), Munich).Candidates);
    }

    private static async Task<SimulatedCoordinator> StartAsync(ManualClock clock)
    {
        var options = new CoordinatorOptions();
        options.Matching.Official = [new() { Name = "far", Uri = "rsync://far.invalid/gentoo-portage", Latitude = -45, Longitude = 170 }];
        options.Matching.DefaultCount = 1;
        return await SimulatedCoordinator.StartAsync(options, clock);
    }

    private static FindMirrorRequest Request(DateTimeOffset have) => new() { Protocol = Protocol.Rsync, Current = Version(have) };

    private static TreeVersion Version(DateTimeOffset at) => new() { Protocol = Protocol.Rsync, Generated = Timestamp.FromDateTimeOffset(at) };
}
