namespace AdHocMirror.Simulation.Engine;

/// <summary>
/// The simulation's time: moves only when the event loop moves it, and fires the timers the coordinator's classes
/// create (the lease book's sweeper) at their due times on the way. Single-threaded, like the loop.
/// </summary>
public sealed class VirtualClock(DateTimeOffset start) : TimeProvider
{
    private readonly List<VirtualTimer> _timers = [];

    public long NowTicks { get; private set; } = start.UtcTicks;

    public override DateTimeOffset GetUtcNow() => new(NowTicks, TimeSpan.Zero);

    public override long GetTimestamp() => NowTicks;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    /// <summary>Moves to <paramref name="ticks"/>, firing every timer due by then in due order at its own due time.</summary>
    public void AdvanceTo(long ticks)
    {
        while (true)
        {
            VirtualTimer? next = null;
            foreach (var timer in _timers)
            {
                if (timer.Due <= ticks && (next is null || timer.Due < next.Due))
                {
                    next = timer;
                }
            }

            if (next is null)
            {
                break;
            }

            NowTicks = Math.Max(NowTicks, next.Due);
            next.Due = next.Period > 0 ? NowTicks + next.Period : long.MaxValue;
            next.Fire();
        }

        NowTicks = Math.Max(NowTicks, ticks);
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new VirtualTimer(this, callback, state);
        timer.Change(dueTime, period);
        _timers.Add(timer);
        return timer;
    }

    private sealed class VirtualTimer(VirtualClock clock, TimerCallback callback, object? state) : ITimer
    {
        public long Due { get; set; } = long.MaxValue;

        public long Period { get; private set; }

        public void Fire() => callback(state);

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            Due = dueTime == Timeout.InfiniteTimeSpan ? long.MaxValue : clock.NowTicks + Math.Max(0, dueTime.Ticks);
            Period = period == Timeout.InfiniteTimeSpan ? 0 : period.Ticks;
            return true;
        }

        public void Dispose()
        {
            Due = long.MaxValue;
            clock._timers.Remove(this);
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
