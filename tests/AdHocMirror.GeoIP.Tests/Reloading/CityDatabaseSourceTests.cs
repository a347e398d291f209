using System.Collections.Concurrent;
using System.Net;
using AdHocMirror.GeoIP.Format;
using AdHocMirror.GeoIP.Reloading;
using AdHocMirror.Testing;
using Microsoft.Extensions.Logging;

namespace AdHocMirror.GeoIP.Tests.Reloading;

/// <summary>The database in service follows the file at its path, without failing a lookup.</summary>
public sealed class CityDatabaseSourceTests : IDisposable
{
    private static readonly IPAddress London = IPAddress.Parse("81.2.69.1");
    private readonly TempDir _dir = new("ahm-geo-reload");
    private readonly RecordingLogger<CityDatabaseSource> _log = new();

    public void Dispose() => _dir.Dispose();

    private string LivePath => _dir.Combine("GeoLite2-City.mmdb");

    [WriterFact]
    public async Task A_file_renamed_over_the_database_is_swapped_in_while_lookups_run()
    {
        await MaxMindWriter.WriteAsync(LivePath, 6, 28, city: "Old");
        var replacements = new[] { ("New", 2L), ("Newer", 3L), ("Newest", 4L) };
        foreach (var (city, _) in replacements)
        {
            await MaxMindWriter.WriteAsync(_dir.Combine($"GeoLite2-City.mmdb.{city}.tmp"), 6, 28, city);
        }

        using var source = CityDatabaseSource.Open(
            new CityDatabaseSourceOptions { Path = LivePath, CheckInterval = TimeSpan.FromHours(1) }, _log);
        Assert.Equal(1, source.Generation);

        using var stop = new CancellationTokenSource();
        var answers = new ConcurrentDictionary<string, int>();
        var failures = new ConcurrentQueue<string>();
        var lookups = Enumerable.Range(0, 2).Select(_ => Task.Factory.StartNew(
            () =>
            {
                var seen = new List<string>();
                while (!stop.IsCancellationRequested)
                {
                    try
                    {
                        if (!source.TryLookupCity(London, out var location))
                        {
                            failures.Enqueue("no answer");
                            continue;
                        }

                        var city = location.CityName ?? "(null)";
                        answers.AddOrUpdate(city, 1, (_, n) => n + 1);
                        if (seen.Count == 0 || seen[^1] != city)
                        {
                            seen.Add(city);
                        }
                    }
                    catch (Exception e)
                    {
                        failures.Enqueue(e.ToString());
                    }
                }

                return seen;
            },
            TaskCreationOptions.LongRunning)).ToArray();

        // Three replacements in a row, each written beside the file and renamed over it, as geoipupdate does.
        foreach (var (city, generation) in replacements)
        {
            File.Move(_dir.Combine($"GeoLite2-City.mmdb.{city}.tmp"), LivePath, overwrite: true);
            await Eventually.TrueAsync(() => source.TryLookupCity(London, out var l) && l.CityName == city, $"lookups answer {city}");
            Assert.Equal(generation, source.Generation);
        }

        await stop.CancelAsync();
        var sequences = await Task.WhenAll(lookups);
        Assert.Empty(failures);
        string[] versions = ["Old", "New", "Newer", "Newest"];
        Assert.Subset(versions.ToHashSet(), answers.Keys.ToHashSet());
        Assert.True(answers.Values.Sum() > 100, $"only {answers.Values.Sum()} lookups ran");
        foreach (var seen in sequences)
        {
            // Each thread sees the versions in order and never goes back to an older one.
            var order = seen.Select(c => Array.IndexOf(versions, c)).ToList();
            Assert.Equal(order.Order(), order);
        }

        Assert.True(_log.Contains(LogLevel.Information, "replacement: True"));
    }

    [WriterFact]
    public async Task Without_directory_events_the_periodic_check_notices_the_replacement()
    {
        await MaxMindWriter.WriteAsync(LivePath, 4, 24, city: "Old");
        var clock = new ManualClock();
        using var source = CityDatabaseSource.Open(
            new CityDatabaseSourceOptions { Path = LivePath, WatchDirectory = false, CheckInterval = TimeSpan.FromMinutes(1) }, _log, clock);

        var staging = _dir.Combine("incoming.tmp");
        await MaxMindWriter.WriteAsync(staging, 4, 24, city: "New");
        File.Move(staging, LivePath, overwrite: true);
        Assert.True(source.TryLookupCity(London, out var before));
        Assert.Equal("Old", before.CityName);

        clock.Advance(TimeSpan.FromMinutes(1));
        await Eventually.TrueAsync(() => source.TryLookupCity(London, out var l) && l.CityName == "New", "the periodic check swaps in the new file");
        Assert.Equal(2, source.Generation);
    }

    [WriterFact]
    public async Task A_bad_replacement_is_logged_and_the_database_in_service_stays()
    {
        await MaxMindWriter.WriteAsync(LivePath, 6, 24, city: "Old");
        using var source = CityDatabaseSource.Open(
            new CityDatabaseSourceOptions { Path = LivePath, CheckInterval = TimeSpan.FromHours(1) }, _log);

        var good = _dir.Combine("good.tmp");
        await MaxMindWriter.WriteAsync(good, 6, 24, city: "New");
        var truncated = _dir.Combine("truncated.tmp");
        var bytes = await File.ReadAllBytesAsync(good);
        await File.WriteAllBytesAsync(truncated, bytes[..(bytes.Length / 2)]);
        File.Move(truncated, LivePath, overwrite: true);

        await Eventually.TrueAsync(() => _log.Contains(LogLevel.Error, "unusable file"), "the rejection is logged");
        Assert.True(_log.Contains(LogLevel.Error, "metadata marker"), string.Join('\n', _log.Entries));
        Assert.True(source.TryLookupCity(London, out var still));
        Assert.Equal("Old", still.CityName);
        Assert.Equal(1, source.Generation);
        Assert.False(await source.CheckNowAsync(), "an unchanged bad file is not retried");

        File.Move(good, LivePath, overwrite: true);
        await Eventually.TrueAsync(() => source.TryLookupCity(London, out var l) && l.CityName == "New", "a good file after a bad one is swapped in");
    }

    [WriterFact]
    public async Task A_missing_file_may_appear_later_when_not_required_at_start()
    {
        using var source = CityDatabaseSource.Open(
            new CityDatabaseSourceOptions { Path = LivePath, RequiredAtStart = false, CheckInterval = TimeSpan.FromHours(1) }, _log);
        Assert.Null(source.Current);
        Assert.False(source.TryLookupCity(London, out _));
        Assert.True(_log.Contains(LogLevel.Warning, "does not exist"));

        var staging = _dir.Combine("first.tmp");
        await MaxMindWriter.WriteAsync(staging, 6, 32, city: "First");
        File.Move(staging, LivePath);
        await Eventually.TrueAsync(() => source.TryLookupCity(London, out var l) && l.CityName == "First", "the file that appeared is used");
    }

    [Fact]
    public async Task A_missing_or_corrupt_file_fails_the_start_when_required()
    {
        var options = new CityDatabaseSourceOptions { Path = LivePath };
        Assert.Throws<FileNotFoundException>(() => CityDatabaseSource.Open(options, _log));
        await File.WriteAllTextAsync(LivePath, "not a database");
        var error = Assert.Throws<InvalidDatabaseException>(() => CityDatabaseSource.Open(options, _log));
        Assert.Contains(LivePath, error.Message, StringComparison.Ordinal);
    }

    [WriterFact]
    public async Task Disposing_a_database_under_running_lookups_neither_crashes_nor_fails_them_mid_way()
    {
        await MaxMindWriter.WriteAsync(LivePath, 6, 28, city: "Old");
        for (var round = 0; round < 20; round++)
        {
            var database = CityDatabase.Open(LivePath);
            using var started = new CountdownEvent(2);
            var lookups = Enumerable.Range(0, 2).Select(_ => Task.Factory.StartNew(
                () =>
                {
                    var answered = 0;
                    started.Signal();
                    while (true)
                    {
                        try
                        {
                            Assert.True(database.TryLookupCity(London, out var l));
                            Assert.Equal("Old", l.CityName);
                            answered++;
                        }
                        catch (ObjectDisposedException)
                        {
                            return answered;
                        }
                    }
                },
                TaskCreationOptions.LongRunning)).ToArray();
            started.Wait();
            database.Dispose();
            await Task.WhenAll(lookups);
        }
    }
}
