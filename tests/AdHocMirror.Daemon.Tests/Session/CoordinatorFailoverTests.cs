using AdHocMirror.Coordinator.Mirrors;
using AdHocMirror.Daemon.Tests.Support;
using AdHocMirror.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace AdHocMirror.Daemon.Tests.Session;

/// <summary>
/// A daemon given two coordinators on one real PostgreSQL database keeps its session when the one it logged in at
/// stops: its next call goes to the other with the same session, and it is never asked to log in again.
/// </summary>
public sealed class CoordinatorFailoverTests(PostgresServer database, Xunit.Abstractions.ITestOutputHelper output) : IClassFixture<PostgresServer>
{
    [SkippableFact]
    public async Task The_coordinator_logged_in_at_stops_and_the_session_goes_on_at_the_other_without_a_new_login()
    {
        Skip.If(PostgresServer.SkipReason is not null, PostgresServer.SkipReason);
        await using var world = await MirrorWorld.StartAsync(new() { ["protocols"] = "rsync" }, cluster: database, coordinators: 2);
        var (first, second) = (world.Coordinators[0], world.Coordinators[1]);
        var mirror = await world.OnlineAsync(OfficialUpstream.FirstVersion);
        await world.OnlineAsync(OfficialUpstream.FirstVersion, at: second);
        var session = world.State.Session!.Id;
        Assert.Equal(1, first.Logins);
        Assert.Equal(0, second.Logins);

        await first.StopAsync();
        var stopped = DateTimeOffset.UtcNow;

        // A new upstream version makes the daemon call (ReportVersion): only the second coordinator can answer it.
        await world.Upstream.AdvanceAsync(TimeSpan.FromHours(1), seed: 17);
        var after = await world.OnlineAsync(world.Upstream.Version, TimeSpan.FromSeconds(60), at: second);
        output.WriteLine($"new version reported through the second coordinator {(DateTimeOffset.UtcNow - stopped).TotalSeconds:0.0} s after the first stopped");

        // The survivor's ping can carry the new version before the daemon's own ReportVersion call has returned.
        await Eventually.TrueAsync(() => world.Log.Contains("Reported versions"), "the daemon reported the new version itself", TimeSpan.FromSeconds(60));
        Assert.Equal(mirror.KeyId, after.KeyId);
        Assert.Equal(session, world.State.Session?.Id);
        Assert.Equal(0, second.Logins);
        Assert.Equal(1, world.Log.Lines.Count(l => l.Contains("Logged in as", StringComparison.Ordinal)));
        Assert.False(world.Log.Contains("Session lost"), string.Join('\n', world.Log.Lines));

        // Still offered by the survivor, and still pinged (by it) with the session the first coordinator opened.
        var pings = world.State.Status.Pings;
        await Eventually.TrueAsync(
            () => second.Services!.GetRequiredService<MirrorDirectory>().Find(mirror.KeyId)?.IsEligible == true && world.State.Status.Pings > pings,
            "the second coordinator offers the mirror and pings it", TimeSpan.FromSeconds(15));
        Assert.Equal(session, world.State.Session?.Id);
    }

    [SkippableFact]
    public async Task While_no_coordinator_answers_the_daemon_keeps_its_session_and_the_next_to_come_back_accepts_it()
    {
        Skip.If(PostgresServer.SkipReason is not null, PostgresServer.SkipReason);
        await using var world = await MirrorWorld.StartAsync(new() { ["protocols"] = "rsync" }, cluster: database, coordinators: 2);
        var (first, second) = (world.Coordinators[0], world.Coordinators[1]);
        await world.OnlineAsync(OfficialUpstream.FirstVersion);
        var session = world.State.Session!.Id;

        await first.StopAsync();
        await second.StopAsync();
        await world.Upstream.AdvanceAsync(TimeSpan.FromHours(1), seed: 23);
        await Eventually.TrueAsync(() => world.Log.Contains("keeping the session"), "the daemon's report finds no coordinator", TimeSpan.FromSeconds(30));
        Assert.Equal(session, world.State.Session?.Id);

        // The second comes back (the first stays away): it reads the session from the database and accepts the report.
        await second.StartAsync();
        await world.OnlineAsync(world.Upstream.Version, TimeSpan.FromSeconds(60), at: second);
        await Eventually.TrueAsync(() => world.Log.Contains("Session kept"), "the daemon says the session was kept", TimeSpan.FromSeconds(30));
        Assert.Equal(session, world.State.Session?.Id);
        Assert.Equal(0, second.Logins);
        Assert.Equal(1, world.Log.Lines.Count(l => l.Contains("Logged in as", StringComparison.Ordinal)));
    }
}
