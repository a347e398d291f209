using System.Collections.Concurrent;
using AdHocMirror.Contracts.V1;
using AdHocMirror.Coordinator.Hosting;
using AdHocMirror.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AdHocMirror.Coordinator.Tests.Edge;

/// <summary>What an outsider can make the coordinator log: little, and never one line per call.</summary>
public sealed class OutsiderLogTests
{
    [Fact]
    public async Task Client_stream_resets_log_nothing_at_information_or_above_and_refused_registrations_are_throttled()
    {
        using var dir = new TempDir("ahm-coord");
        var options = new CoordinatorOptions { Listen = "127.0.0.1:0", AdminListen = "127.0.0.1:0", DataDir = dir.Path };
        options.Keys.RegistrationsPerNetworkPerHour = 1;
        var logs = new Capture();
        using var host = CoordinatorHost.Build(options, logging => logging.AddProvider(logs).SetMinimumLevel(LogLevel.Trace), new ManualClock());
        await host.StartAsync();
        try
        {
            var listeners = host.Services.GetRequiredService<CoordinatorListeners>();
            using var channel = GrpcChannels.Create($"http://127.0.0.1:{listeners.Public.Server.Port}");
            var registry = new RegistryClient(channel);
            await registry.RegisterAsync(new RegisterRequest());
            logs.Entries.Clear();

            // 200 refused registrations: a handful of lines, not 200.
            for (var i = 0; i < 200; i++)
            {
                var e = await Assert.ThrowsAsync<RpcException>(() => registry.RegisterAsync(new RegisterRequest()).ResponseAsync);
                Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
            }

            Assert.InRange(logs.Entries.Count(l => l.Message.Contains("rate limit", StringComparison.Ordinal)), 1, 10);

            // Streams the client resets mid-call (a server stream cancelled, a unary call cut by its deadline).
            logs.Entries.Clear();
            using var adminChannel = GrpcChannels.Create($"http://127.0.0.1:{listeners.Admin.Server.Port}");
            var token = File.ReadAllText(Path.Combine(dir.Path, Coordinator.Admin.AdminToken.FileName)).Trim();
            var admin = new AdminClient(adminChannel.WithBearer(token));
            await admin.BlacklistNetworkAsync(new BlacklistNetworkRequest { Prefix = "203.0.113.0/24", Reason = "an audit entry to watch" });
            logs.Entries.Clear();
            for (var i = 0; i < 20; i++)
            {
                using var cts = new CancellationTokenSource();
                using var watch = admin.WatchAudit(new WatchAuditRequest { Tail = 1 }, cancellationToken: cts.Token);
                Assert.True(await watch.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30)));
                await cts.CancelAsync();
                await Assert.ThrowsAnyAsync<Exception>(() => watch.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30)));
            }

            // HTTP/2 frames on a connection are handled in order: once a later call is answered, the resets were seen.
            await admin.ListAuditAsync(new ListAuditRequest { Limit = 1 });
            var loud = logs.Entries.Where(l => l.Level >= LogLevel.Information).ToList();
            Assert.True(loud.Count == 0, string.Join("\n", loud.Select(l => $"{l.Level} {l.Category}: {l.Message}")));
        }
        finally
        {
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            await host.StopAsync(stop.Token);
        }
    }

    private sealed record Entry(string Category, LogLevel Level, string Message);

    private sealed class Capture : ILoggerProvider
    {
        public ConcurrentQueue<Entry> Entries { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(categoryName, Entries);

        public void Dispose()
        {
        }

        private sealed class Logger(string category, ConcurrentQueue<Entry> entries) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                entries.Enqueue(new Entry(category, logLevel, formatter(state, exception) + (exception is null ? string.Empty : " " + exception.GetType().Name)));
        }
    }
}
