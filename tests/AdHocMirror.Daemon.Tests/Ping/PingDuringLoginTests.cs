using AdHocMirror.Daemon.Status;
using AdHocMirror.Testing;

namespace AdHocMirror.Daemon.Tests.Ping;

/// <summary>
/// The coordinator pings at once after a login, so on a busy machine the ping can reach the daemon before the
/// login's reply does. Such a ping waits for the login in flight instead of failing (a failed first ping kept a new
/// volunteer out of FindMirror for a whole ping interval); a ping while no login is in flight waits for nothing.
/// </summary>
public sealed class PingDuringLoginTests
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_ping_that_overtakes_the_login_reply_gets_the_new_session()
    {
        var state = new MirrorState(TimeProvider.System);
        var login = state.BeginLogin();
        var ping = state.SessionForAsync("s-1", Long, CancellationToken.None);
        Assert.False(ping.IsCompleted);

        var session = new LiveSession("s-1", new byte[32], TimeSpan.FromSeconds(60), DateTimeOffset.UtcNow);
        state.SetSession(session);
        login.Dispose();
        Assert.Same(session, await ping.WaitAsync(Long));
    }

    [Fact]
    public async Task A_ping_for_another_session_is_answered_when_the_login_ends()
    {
        var state = new MirrorState(TimeProvider.System);
        var old = new LiveSession("s-old", new byte[32], TimeSpan.FromSeconds(60), DateTimeOffset.UtcNow);
        state.SetSession(old);

        // Without a login in flight: at once, with the session we hold (the service then refuses the stranger).
        Assert.Same(old, await state.SessionForAsync("stranger", Long, CancellationToken.None).WaitAsync(Long));

        var login = state.BeginLogin();
        var ping = state.SessionForAsync("stranger", Long, CancellationToken.None);
        Assert.False(ping.IsCompleted);
        login.Dispose(); // the login failed: nothing changed
        Assert.Same(old, await ping.WaitAsync(Long));
    }

    [Fact]
    public async Task The_wait_is_bounded_and_cancelled_with_the_call()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        var state = new MirrorState(clock);
        using var login = state.BeginLogin();

        var bounded = state.SessionForAsync("s-1", TimeSpan.FromSeconds(3), CancellationToken.None);
        Assert.False(bounded.IsCompleted);
        await Eventually.TrueAsync(
            () =>
            {
                clock.Advance(TimeSpan.FromSeconds(1));
                return bounded.IsCompleted;
            },
            "the wait ends after its bound on the moved clock");
        Assert.Null(await bounded);

        using var cancel = new CancellationTokenSource();
        var cancelled = state.SessionForAsync("s-1", Long, cancel.Token);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
    }
}
