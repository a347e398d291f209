namespace AdHocMirror.Hosting;

/// <summary>
/// Caps a log line an outsider can trigger at <c>perWindow</c> lines per window, so a flood of bad calls
/// costs the log a few lines, not one per call. The first line after a quiet spell says how many were dropped.
/// </summary>
public sealed class LogThrottle(TimeProvider clock, TimeSpan window, int perWindow)
{
    private readonly Lock _gate = new();
    private DateTimeOffset _windowStart = DateTimeOffset.MinValue;
    private int _written;
    private long _suppressed;

    public LogThrottle(TimeProvider clock)
        : this(clock, TimeSpan.FromMinutes(1), 10)
    {
    }

    /// <summary>True when this line may be written; <paramref name="suppressed"/> is how many were dropped since the last one written.</summary>
    public bool TryLog(out long suppressed)
    {
        var now = clock.GetUtcNow();
        lock (_gate)
        {
            if (now - _windowStart >= window || now < _windowStart)
            {
                _windowStart = now;
                _written = 0;
            }

            if (_written >= perWindow)
            {
                _suppressed++;
                suppressed = 0;
                return false;
            }

            _written++;
            suppressed = _suppressed;
            _suppressed = 0;
            return true;
        }
    }
}
