using System.Diagnostics;
using System.Globalization;
using AdHocMirror.Contracts;
using AdHocMirror.Contracts.V1;
using AdHocMirror.Testing;

namespace AdHocMirror.Bench;

/// <summary>
/// <c>findmirror --cluster [SECONDS] [MIRRORS] [--rounds N]</c>: FindMirror calls/s and p99 of three coordinators on one
/// PostgreSQL database (calls spread round-robin over the three) against one coordinator on SQLite, in the same run,
/// alternating, with the same mirrors in memory and the same 64 calls in flight. FindMirror reads no database, so the
/// figure says what a cluster costs (heartbeats, change polling, capacity shares) and what three processes on this
/// machine's cores add, not what the store costs.
/// </summary>
public static class ClusterFindMirrorBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        if (PostgresServer.SkipReason is { } reason)
        {
            Console.Error.WriteLine($"findmirror --cluster: {reason}");
            return 1;
        }

        var rounds = int.Parse(BenchCommandLine.ValueOf(args, "--rounds") ?? "1", CultureInfo.InvariantCulture);
        var positional = BenchCommandLine.Positional(args, "--rounds");
        var seconds = positional.Length > 0 ? int.Parse(positional[0], CultureInfo.InvariantCulture) : 5;
        var mirrors = positional.Length > 1 ? int.Parse(positional[1], CultureInfo.InvariantCulture) : 1_000;
        Console.WriteLine($"findmirror --cluster: {Environment.ProcessorCount} cores, {mirrors:N0} mirrors, {seconds} s per run, 64 calls in flight, count=3, privacy budget off;");
        Console.WriteLine("three coordinators on one PostgreSQL (a private server on loopback) against one on SQLite; all on this machine.");

        var postgres = new PostgresServer();
        await postgres.InitializeAsync();
        try
        {
            var requests = FindMirrorBenchmark.Requests(new Random(7), 4096, withHint: true);
            var single = new List<(double PerSecond, double P99)>();
            var cluster = new List<(double PerSecond, double P99)>();
            Console.WriteLine($"{"round",5} {"setup",22} | {"calls/s",9} {"p50",8} {"p99",8} | load");
            for (var round = 1; round <= rounds; round++)
            {
                single.Add(await MeasureAsync(round, "1 coordinator, SQLite", [[]], mirrors, seconds, requests));
                var database = (await postgres.CreateDatabaseAsync()).Split(';').Single(p => p.StartsWith("Database=", StringComparison.Ordinal))["Database=".Length..];
                string[] store = ["--store", $"postgres://{PostgresServer.User}@127.0.0.1:{postgres.Port}/{database}", "--store-password-file", postgres.PasswordFile];
                cluster.Add(await MeasureAsync(round, "3 coordinators, PgSQL", [store, store, store], mirrors, seconds, requests));
            }

            double Median(IEnumerable<double> values) => values.Order().ElementAt(rounds / 2);
            var (s, c) = (Median(single.Select(f => f.PerSecond)), Median(cluster.Select(f => f.PerSecond)));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"median over {rounds} round(s): SQLite {s:N0} calls/s (p99 {Median(single.Select(f => f.P99)):F2} ms), three on PostgreSQL {c:N0} calls/s summed (p99 {Median(cluster.Select(f => f.P99)):F2} ms); ratio three/one {c / s:F2}"));
            return 0;
        }
        finally
        {
            await postgres.DisposeAsync();
        }
    }

    private static async Task<(double PerSecond, double P99)> MeasureAsync(int round, string setup, string[][] hosts, int mirrors, int seconds, FindMirrorRequest[] requests)
    {
        var processes = new List<Process>();
        var channels = new List<GrpcChannel>();
        try
        {
            foreach (var store in hosts)
            {
                processes.Add(FindMirrorBenchmark.StartHost(["findmirror", "--host", mirrors.ToString(CultureInfo.InvariantCulture), "off", "--serve-only", .. store]));
            }

            foreach (var process in processes)
            {
                using var ready = new CancellationTokenSource(TimeSpan.FromMinutes(5));
                var line = await process.StandardOutput.ReadLineAsync(ready.Token) ?? throw new InvalidOperationException("a coordinator host ended before it was ready");
                channels.Add(GrpcChannels.Create($"http://127.0.0.1:{line.Split(' ')[1]}"));
            }

            var clients = channels.Select(c => new MatchingClient(c)).ToArray();
            // A coordinator that joins a cluster offers its share only once the others have seen it (settle time, lease TTL):
            // wait until each one offers, so that no run measures empty answers.
            var deadline = Stopwatch.StartNew();
            foreach (var client in clients)
            {
                while ((await client.FindMirrorAsync(requests[0])).Candidates.Count == 0)
                {
                    if (deadline.Elapsed > TimeSpan.FromMinutes(2))
                    {
                        throw new TimeoutException($"{setup}: a coordinator offered no mirror within 2 minutes");
                    }

                    await Task.Delay(200);
                }
            }

            // Warm the JIT over the transport as long as the run, then measure.
            await FindMirrorBenchmark.MeasureAsync(i => clients[i % clients.Length].FindMirrorAsync(requests[i % requests.Length]).ResponseAsync, TimeSpan.FromSeconds(seconds));
            var empty = 0;
            var (perSecond, p50, p99) = await FindMirrorBenchmark.MeasureAsync(
                async i =>
                {
                    if ((await clients[i % clients.Length].FindMirrorAsync(requests[i % requests.Length])).Candidates.Count == 0)
                    {
                        Interlocked.Increment(ref empty);
                    }
                },
                TimeSpan.FromSeconds(seconds));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{round,5} {setup,22} | {perSecond,9:N0} {p50,6:F2}ms {p99,6:F2}ms | {File.ReadAllText("/proc/loadavg").Split(' ')[0]}{(empty > 0 ? $" ({empty} answers without a mirror)" : string.Empty)}"));
            return (perSecond, p99);
        }
        finally
        {
            foreach (var channel in channels)
            {
                channel.Dispose();
            }

            foreach (var process in processes)
            {
                process.StandardInput.Close();
                if (!process.WaitForExit(TimeSpan.FromSeconds(30)))
                {
                    process.Kill(entireProcessTree: true);
                }

                process.Dispose();
            }
        }
    }
}
