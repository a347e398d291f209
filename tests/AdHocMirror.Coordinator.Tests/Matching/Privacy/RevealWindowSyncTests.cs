using AdHocMirror.Coordinator.Matching.Privacy;
using AdHocMirror.Coordinator.Storage;
using AdHocMirror.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace AdHocMirror.Coordinator.Tests.Matching.Privacy;

/// <summary>
/// The window secrets come from the store ahead of each window, in the background, on a moved clock:
/// FindMirror's path (<see cref="RevealWindows.SecretOf"/>) only reads memory.
/// </summary>
public sealed class RevealWindowSyncTests
{
    // 12:00 on the hour: the next window starts at 13:00, its secret is due from 12:55.
    private static readonly PrivacyOptions Options = new();

    [Fact]
    public async Task Two_coordinators_on_one_store_fetch_each_window_ahead_and_agree_across_turns()
    {
        using var dir = new TempDir("ahm-reveal-sync");
        using var storeA = new SqliteCoordinatorStore(Path.Combine(dir.Path, "coordinator.db"));
        using var storeB = new SqliteCoordinatorStore(Path.Combine(dir.Path, "coordinator.db"));
        await storeA.OpenAsync();
        await storeB.OpenAsync();
        var clock = new ManualClock();
        var (a, syncA) = Start(storeA, clock);
        var (b, syncB) = Start(storeB, clock);
        await Task.WhenAll(syncA.StartAsync(CancellationToken.None), syncB.StartAsync(CancellationToken.None));
        try
        {
            var window = a.Current;
            Assert.Equal(a.SecretOf(window), b.SecretOf(window));
            Assert.False(a.Knows(window + 1));

            for (var turn = 0; turn < 3; turn++)
            {
                // Just short of the lead: nothing yet. At the lead, both fetch the next window before it starts.
                clock.Advance(a.StartOf(window + 1) - clock.GetUtcNow() - Options.RevealSecretLead - TimeSpan.FromSeconds(1));
                Assert.False(a.Knows(window + 1));
                await AdvanceUntilAsync(clock, () => a.Knows(window + 1) && b.Knows(window + 1), a.StartOf(window + 1), "both know the next window's secret before it starts");
                clock.Advance(a.StartOf(window + 1) - clock.GetUtcNow());
                window++;
                Assert.Equal(window, a.Current);
                Assert.Equal(a.SecretOf(window), b.SecretOf(window));
                Assert.NotEqual(a.SecretOf(window), a.SecretOf(window - 1));
            }

            Assert.Equal(0, a.LocalWindows + b.LocalWindows);
        }
        finally
        {
            await Task.WhenAll(syncA.StopAsync(CancellationToken.None), syncB.StopAsync(CancellationToken.None));
            syncA.Dispose();
            syncB.Dispose();
        }
    }

    [Fact]
    public async Task A_window_that_starts_without_its_shared_secret_keeps_a_local_one_to_its_end_and_the_next_is_shared_again()
    {
        var clock = new ManualClock();
        var shared = new MemoryRevealSecrets();
        var (windows, sync) = Start(shared, clock);
        await sync.StartAsync(CancellationToken.None);
        try
        {
            // The window turns before the background fetch ran (as when the store is away): no wait, a local secret.
            var window = windows.Current + 1;
            var late = await shared.GetOrAddRevealSecretAsync(window, [1, 2, 3]);
            Assert.False(windows.Knows(window));
            var local = windows.SecretOf(window);
            Assert.NotEqual(late, local);
            Assert.Equal(1, windows.LocalWindows);

            // The shared one coming later does not replace it: a switch halfway would hand every network a fresh budget.
            Assert.False(windows.Offer(window, late));
            Assert.True(await sync.FetchAsync(window, CancellationToken.None));
            Assert.Equal(local, windows.SecretOf(window));

            // The next window is shared again.
            var next = await shared.GetOrAddRevealSecretAsync(window + 1, [4, 5, 6]);
            Assert.True(await sync.FetchAsync(window + 1, CancellationToken.None));
            Assert.Equal(next, windows.SecretOf(window + 1));
            Assert.Equal(1, windows.LocalWindows);
        }
        finally
        {
            await sync.StopAsync(CancellationToken.None);
            sync.Dispose();
        }
    }

    [SkippableFact]
    public async Task A_store_that_is_away_fails_the_fetch_quickly_and_FindMirror_still_gets_a_secret()
    {
        Skip.If(PostgresServer.SkipReason is not null, PostgresServer.SkipReason);
        // Nothing listens on the port: the database is away (a real PostgreSQL client, refused at once).
        using var away = new PostgresCoordinatorStore($"Host=127.0.0.1;Port={FreePort.Next()};Username=ahm;Password=x;Database=ahm;Timeout=2");
        var clock = new ManualClock();
        var (windows, sync) = Start(away, clock);
        var started = DateTime.UtcNow;
        await sync.StartAsync(CancellationToken.None);
        try
        {
            Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(10), $"start took {DateTime.UtcNow - started}");
            Assert.False(windows.Knows(windows.Current));
            Assert.False(await sync.FetchAsync(windows.Current, CancellationToken.None));
            Assert.Equal(32, windows.SecretOf(windows.Current).Length);
            Assert.Equal(1, windows.LocalWindows);
        }
        finally
        {
            await sync.StopAsync(CancellationToken.None);
            sync.Dispose();
        }
    }

    internal static (RevealWindows Windows, RevealWindowSync Sync) Start(IRevealSecrets store, TimeProvider clock)
    {
        var windows = new RevealWindows(Options, clock, NullLogger<RevealWindows>.Instance);
        return (windows, new RevealWindowSync(windows, store, Options, NullLogger<RevealWindowSync>.Instance));
    }

    /// <summary>
    /// Moves the clock a second at a time until <paramref name="condition"/> holds, never to <paramref name="before"/>:
    /// the background fetch runs on its own, so its next timer may be set a moment after a move. The real-time
    /// bound is long because each fetch is a real database call bounded at 5 s, retried on the moved clock: on a
    /// machine loaded 40 deep a few of them can miss that bound before one answers.
    /// </summary>
    internal static async Task AdvanceUntilAsync(ManualClock clock, Func<bool> condition, DateTimeOffset before, string what)
    {
        await Eventually.TrueAsync(() =>
        {
            if (condition())
            {
                return true;
            }

            if (clock.GetUtcNow() + TimeSpan.FromSeconds(1) < before)
            {
                clock.Advance(TimeSpan.FromSeconds(1));
            }

            return false;
        }, what, TimeSpan.FromSeconds(90));
    }
}
