using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace AdHocMirror.GeoIP.Tests.Reloading;

/// <summary>Keeps what was logged, so tests can check that a rejection says why.</summary>
internal sealed class RecordingLogger<T> : ILogger<T>
{
    public ConcurrentQueue<(LogLevel Level, string Message)> Entries { get; } = new();

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Entries.Enqueue((logLevel, formatter(state, exception)));

    public bool Contains(LogLevel level, string text) => Entries.Any(e => e.Level == level && e.Message.Contains(text, StringComparison.Ordinal));
}
