using AdHocMirror.Contracts;
using AdHocMirror.Hosting;
using AdHocMirror.Testing;

namespace AdHocMirror.Protos.Tests.Hosting;

public sealed class LogThrottleTests
{
    [Fact]
    public void A_flood_writes_a_few_lines_per_window_and_the_next_line_counts_what_was_dropped()
    {
        var clock = new ManualClock();
        var throttle = new LogThrottle(clock, TimeSpan.FromMinutes(1), 3);
        var written = Enumerable.Range(0, 1000).Count(i => throttle.TryLog(out _));
        Assert.Equal(3, written);

        clock.Advance(TimeSpan.FromSeconds(59));
        Assert.False(throttle.TryLog(out _));

        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.True(throttle.TryLog(out var dropped));
        Assert.Equal(998, dropped);
        Assert.True(throttle.TryLog(out dropped));
        Assert.Equal(0, dropped);
    }

    [Fact]
    public void Quotes_are_short_and_escaped()
    {
        Assert.Equal("'abc'", InputText.Quote("abc"));
        var quoted = InputText.Quote(new string('x', 3_000_000));
        Assert.True(quoted.Length < 80, quoted);
        Assert.Contains("3000000 characters", quoted, StringComparison.Ordinal);
        Assert.Equal("'a\\u000d\\u000aFAKE LOG\\u001b[2J'", InputText.Quote("a\r\nFAKE LOG\u001b[2J"));
        Assert.Equal("\\ud800x", InputText.Escape("\ud800x"));
        Assert.Equal("😀", InputText.Escape("😀"));
    }
}
