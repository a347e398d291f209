using System.Collections.Concurrent;
using AdHocMirror.Contracts.V1;
using AdHocMirror.Coordinator.Mirrors;
using AdHocMirror.Coordinator.Tests.Support;
using AdHocMirror.Testing;

namespace AdHocMirror.Coordinator.Tests.Liveness;

public sealed class PingSchedulerTests
{
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(70); // past the jittered 60 s interval

    [Fact]
    public async Task First_good_ping_brings_a_mirror_online_with_the_versions_and_load_it_reports()
    {
        await using var c = await CoordinatorFixture.StartAsync();
        var changes = new ConcurrentQueue<MirrorChange>();
        c.Directory.Changed += changes.Enqueue;
        await using var mirror = new FakeMirror { ActiveConnections = 4 };
        await mirror.StartAsync();
        var key = await c.RegisterAsync();
        var login = await c.Sessions.LoginAsync(CoordinatorFixture.Login(mirror.Port), CoordinatorFixture.With(key));
        mirror.Accept(login);
        var newer = CoordinatorFixture.Version(Protocol.Rsync, new DateTimeOffset(2026, 11, 21, 6, 0, 0, TimeSpan.Zero));
        mirror.Versions.Add(newer);

        // Pinged at once after login, without moving the clock.
        await Eventually.TrueAsync(() => c.Directory.Find(key.KeyId)?.State == MirrorState.Online, "the mirror comes online after its first good ping");
        var view = c.Directory.Find(key.KeyId)!;
        Assert.Equal(4u, view.ActiveConnections);
        Assert.Equal(newer, view.VersionOf(Protocol.Rsync));
        Assert.Equal(c.Clock.GetUtcNow(), view.LastPing);
        Assert.Contains(changes, ch => ch.Kind == MirrorChangeKind.Eligible && ch.Mirror.KeyId == key.KeyId);

        // Later pings carry load changes to observers.
        mirror.ActiveConnections = 9;
        await c.AdvanceUntilAsync(() => c.Directory.Find(key.KeyId)!.ActiveConnections == 9, Step, "the next ping reports the new load");
        Assert.Contains(changes, ch => ch.Kind == MirrorChangeKind.LoadChanged && ch.Mirror.ActiveConnections == 9);

        var listed = Assert.Single((await c.Admin.ListMirrorsAsync(new() { States = { MirrorState.Online } })).Mirrors);
        Assert.Equal(key.KeyId, listed.KeyId);
        Assert.NotNull(listed.LastPing);
        Assert.True((await c.Admin.GetStatsAsync(new())).Values["ahm_pings_total{result=\"ok\"}"] >= 2);
    }

    [Fact]
    public async Task Forged_ping_answer_never_brings_a_mirror_online()
    {
        await using var c = await CoordinatorFixture.StartAsync();
        await using var impostor = new FakeMirror { Forges = true }; // answers, but without the session secret
        await impostor.StartAsync();
        var key = await c.RegisterAsync();
        await c.Sessions.LoginAsync(CoordinatorFixture.Login(impostor.Port), CoordinatorFixture.With(key));
        await c.AdvanceUntilAsync(() => impostor.Pings >= 3, Step, "three pings answered with a forged proof");
        await Eventually.TrueAsync(() => c.Directory.Find(key.KeyId)!.FailedPings >= 3, "the forged answers count as failures");
        Assert.Equal(MirrorState.Offline, c.Directory.Find(key.KeyId)!.State);
        Assert.True((await c.Admin.GetStatsAsync(new())).Values["ahm_pings_total{result=\"forged\"}"] >= 3);

        // An answer from the holder of another session (a superseded one) is just as forged.
        var old = await c.Sessions.LoginAsync(CoordinatorFixture.Login(impostor.Port), CoordinatorFixture.With(key));
        await c.Sessions.LoginAsync(CoordinatorFixture.Login(impostor.Port), CoordinatorFixture.With(key));
        impostor.SessionSecret = old.SessionSecret;
        var before = impostor.Pings;
        await c.AdvanceUntilAsync(() => impostor.Pings >= before + 2, Step, "pings answered with a superseded secret");
        Assert.NotEqual(MirrorState.Online, c.Directory.Find(key.KeyId)!.State);
    }

    [Fact]
    public async Task Consecutive_failures_take_a_mirror_offline_and_the_next_good_ping_brings_it_back()
    {
        await using var c = await CoordinatorFixture.StartAsync();
        var changes = new ConcurrentQueue<MirrorChange>();
        c.Directory.Changed += changes.Enqueue;
        await using var mirror = new FakeMirror();
        await mirror.StartAsync();
        var key = await c.RegisterAsync();
        var login = await c.Sessions.LoginAsync(CoordinatorFixture.Login(mirror.Port), CoordinatorFixture.With(key));
        mirror.Accept(login);
        await Eventually.TrueAsync(() => c.Directory.Find(key.KeyId)?.State == MirrorState.Online, "online");

        await mirror.StopAsync();
        await c.AdvanceUntilAsync(() => c.Directory.Find(key.KeyId)!.FailedPings >= 1, Step, "a first failed ping");
        Assert.Equal(MirrorState.Online, c.Directory.Find(key.KeyId)!.State); // one failure is not enough
        await c.AdvanceUntilAsync(() => c.Directory.Find(key.KeyId)!.State == MirrorState.Offline, Step, "offline after three failures");
        Assert.Equal(3, c.Directory.Find(key.KeyId)!.FailedPings);
        Assert.Contains(changes, ch => ch.Kind == MirrorChangeKind.Ineligible && ch.Mirror.KeyId == key.KeyId);
        Assert.Single((await c.Admin.ListMirrorsAsync(new() { States = { MirrorState.Offline } })).Mirrors);

        await mirror.StartAsync(); // same port
        await c.AdvanceUntilAsync(() => c.Directory.Find(key.KeyId)!.State == MirrorState.Online, Step, "online again after a good ping");
        Assert.Equal(0, c.Directory.Find(key.KeyId)!.FailedPings);
        Assert.Equal(2, changes.Count(ch => ch.Kind == MirrorChangeKind.Eligible));
    }

    [Fact]
    public async Task Quarantined_mirror_stays_out_until_released()
    {
        await using var c = await CoordinatorFixture.StartAsync();
        await using var mirror = new FakeMirror();
        await mirror.StartAsync();
        var key = await c.RegisterAsync();
        var login = await c.Sessions.LoginAsync(CoordinatorFixture.Login(mirror.Port), CoordinatorFixture.With(key));
        mirror.Accept(login);
        await Eventually.TrueAsync(() => c.Directory.Find(key.KeyId)?.State == MirrorState.Online, "online");

        var quarantine = (MirrorQuarantine)c.Host.Services.GetService(typeof(MirrorQuarantine))!;
        await quarantine.QuarantineAsync(key.KeyId, "rollback reported by 3 clients", 3, "system", CancellationToken.None);
        Assert.Equal(MirrorState.Quarantined, c.Directory.Find(key.KeyId)!.State);
        var entry = Assert.Single((await c.Admin.ListQuarantineAsync(new())).Entries);
        Assert.Equal(3u, entry.ReportingClients);

        // Good pings do not lift a quarantine, nor does a new login.
        await c.AdvanceUntilAsync(() => mirror.Pings >= 3, Step, "more pings");
        login = await c.Sessions.LoginAsync(CoordinatorFixture.Login(mirror.Port), CoordinatorFixture.With(key));
        mirror.Accept(login);
        Assert.Equal(MirrorState.Quarantined, c.Directory.Find(key.KeyId)!.State);

        // Nor does rotating the key: the quarantine follows the mirror to its new key id.
        var rotated = await c.Registry.RotateKeyAsync(new(), CoordinatorFixture.With(key));
        key = rotated;
        Assert.Equal(MirrorState.Quarantined, c.Directory.Find(key.KeyId)!.State);
        Assert.Equal(key.KeyId, Assert.Single((await c.Admin.ListQuarantineAsync(new())).Entries).KeyId);
        login = await c.Sessions.LoginAsync(CoordinatorFixture.Login(mirror.Port), CoordinatorFixture.With(key));
        mirror.Accept(login);
        Assert.Equal(MirrorState.Quarantined, c.Directory.Find(key.KeyId)!.State);

        await c.Admin.ReleaseQuarantineAsync(new() { KeyId = key.KeyId, Reason = "checked by hand" });
        await c.AdvanceUntilAsync(() => c.Directory.Find(key.KeyId)!.State == MirrorState.Online, Step, "online after release and a good ping");
        Assert.Empty((await c.Admin.ListQuarantineAsync(new())).Entries);
    }

    [Fact]
    public async Task Pings_are_bounded_in_concurrency_and_spread_over_the_jittered_interval()
    {
        // A ping that fails is tried again only a jittered interval later on the fixture's clock, which this
        // test does not move while it waits: on a machine loaded 40 deep a 5 s answer bound can be missed, so
        // the bound here is long. What is checked is the concurrency and the spread, not the timeout.
        await using var c = await CoordinatorFixture.StartAsync(o =>
        {
            o.Pings.MaxConcurrency = 4;
            o.Pings.Timeout = TimeSpan.FromSeconds(90);
        });
        await using var mirror = new FakeMirror { AnswerDelay = TimeSpan.FromMilliseconds(20) };
        await mirror.StartAsync();
        const int Mirrors = 40;
        for (var i = 0; i < Mirrors; i++)
        {
            var key = await c.RegisterAsync();
            var login = await c.Sessions.LoginAsync(CoordinatorFixture.Login(mirror.Port), CoordinatorFixture.With(key));
            mirror.AddSession(login.SessionId, login.SessionSecret);
        }

        await Eventually.TrueAsync(() => c.Directory.CountByState()[MirrorState.Online] == Mirrors, "every mirror online", TimeSpan.FromSeconds(120));
        Assert.InRange(mirror.MaxInFlight, 1, 4);

        // The next round is planned over the jittered interval (60 s ± 10%), not at one instant.
        var scheduler = (AdHocMirror.Coordinator.Liveness.PingScheduler)c.Host.Services.GetService(typeof(AdHocMirror.Coordinator.Liveness.PingScheduler))!;
        var start = c.Clock.GetUtcNow();
        await Eventually.TrueAsync(() => scheduler.Planned().Count == Mirrors, "every mirror has its next ping planned");
        var offsets = scheduler.Planned().Values.Select(due => (due - start).TotalSeconds).ToList();
        Assert.All(offsets, o => Assert.InRange(o, 54, 66));
        var perSecond = offsets.GroupBy(o => (int)o).Select(g => g.Count()).ToList();
        Assert.True(perSecond.Count >= 5, $"spread over several seconds: {string.Join(",", perSecond)}");
        Assert.True(perSecond.Max() < Mirrors / 2, $"no burst: {string.Join(",", perSecond)}");

        // Nothing is pinged early; the whole round is pinged by the end of the window.
        var before = mirror.Pings;
        c.Clock.Advance(TimeSpan.FromSeconds(53));
        Assert.Equal(before, mirror.Pings);
        c.Clock.Advance(TimeSpan.FromSeconds(14));
        await Eventually.TrueAsync(() => mirror.Pings - before >= Mirrors, "the whole round is pinged", TimeSpan.FromSeconds(120));
        Assert.InRange(mirror.MaxInFlight, 1, 4);
    }
}
