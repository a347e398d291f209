using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using AdHocMirror.Contracts;
using AdHocMirror.Contracts.V1;
using AdHocMirror.Coordinator.Hosting;
using AdHocMirror.Coordinator.Matching;
using AdHocMirror.Coordinator.Mirrors;
using AdHocMirror.Testing;
using Grpc.Core;
using Google.Protobuf.WellKnownTypes;
using Grpc.Health.V1;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AdHocMirror.Bench;

/// <summary>
/// FindMirror over real gRPC with 1,000, 10,000 and 100,000 mirrors online, spread over the world's
/// land: calls/s and latency against a trivial method (Health/Check) on the same transport in the
/// same run, the coordinator's own cost per call (no transport), and the process's memory.
/// </summary>
public static partial class FindMirrorBenchmark
{
    // Rough land boxes (lat0, lat1, lon0, lon1, weight): where volunteers and users are.
    private static readonly (double Lat0, double Lat1, double Lon0, double Lon1, int Weight)[] Land =
    [
        (36, 60, -10, 30, 30),    // Europe
        (25, 50, -125, -70, 25),  // North America
        (-35, 5, -75, -35, 8),    // South America
        (-35, 35, -15, 50, 7),    // Africa
        (20, 45, 70, 140, 20),    // South and East Asia
        (45, 60, 30, 100, 5),     // Russia, Central Asia
        (-40, -12, 115, 153, 5),  // Australia
    ];

    /// <summary>Networks in the generated City database of <c>--geoip</c> runs.</summary>
    private const int GeoNetworks = 16_384;

    /// <summary>
    /// <c>findmirror [SECONDS] [SIZES] [--in-process-only] [--geoip] [--rounds N] [--calls-per-network K]</c>. With <c>--geoip</c> the
    /// coordinator reads a generated City database and clients send no hint: they are placed by their address,
    /// so that the lookup is on every answer's path. <c>--rounds</c> repeats the sizes, for figures on a busy machine.
    /// <c>--cluster</c>: <see cref="ClusterFindMirrorBenchmark"/>. <c>--interleaved</c>: <see cref="BudgetToggleBenchmark"/>.
    /// </summary>
    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length >= 3 && args[0] == "--host")
        {
            var geo = args.Length >= 4 && !args[3].StartsWith("--", StringComparison.Ordinal) ? args[3] : null;
            await HostAsync(int.Parse(args[1], CultureInfo.InvariantCulture), args[2] == "on", geo, BenchCommandLine.ValueOf(args, "--store"), BenchCommandLine.ValueOf(args, "--store-password-file"), args.Contains("--serve-only"), args.Contains("--open-registration"), int.Parse(BenchCommandLine.ValueOf(args, "--calls-per-network") ?? "1", CultureInfo.InvariantCulture));
            return 0;
        }

        if (args.Contains("--interleaved"))
        {
            return await BudgetToggleBenchmark.RunAsync([.. args.Where(a => a != "--interleaved")]);
        }

        if (args.Contains("--cluster"))
        {
            return await ClusterFindMirrorBenchmark.RunAsync([.. args.Where(a => a != "--cluster")]);
        }

        var inProcessOnly = args.Contains("--in-process-only");
        var geoip = args.Contains("--geoip");
        var rounds = int.Parse(BenchCommandLine.ValueOf(args, "--rounds") ?? "1", CultureInfo.InvariantCulture);
        var callsPerNetwork = int.Parse(BenchCommandLine.ValueOf(args, "--calls-per-network") ?? "1", CultureInfo.InvariantCulture);
        var positional = BenchCommandLine.Positional(args, "--rounds", "--calls-per-network");
        var seconds = positional.Length > 0 && int.TryParse(positional[0], CultureInfo.InvariantCulture, out var s) ? s : 5;
        int[] sizes = positional.Length > 1 ? positional[1].Split(',').Select(x => int.Parse(x, CultureInfo.InvariantCulture)).ToArray() : [1_000, 10_000, 100_000];
        Console.WriteLine($"findmirror benchmark: {Environment.ProcessorCount} cores, {seconds} s per run, 64 calls in flight on one h2c connection, count=3;");
        Console.WriteLine("the coordinator runs in its own process with ahm-coordinator's GC settings; the load comes from h2load and from this process.");
        using var scratch = new TempDir("ahm-bench-findmirror");
        string? geoFile = null;
        if (geoip)
        {
            geoFile = scratch.Combine("city.mmdb");
            await BenchCityDatabase.WriteAsync(geoFile, GeoNetworks, LandPoint);
            Console.WriteLine($"GeoIP: a generated City database ({GeoNetworks:N0} /16 networks on land, 127.0.0.0/8 in Europe); clients carry no hint and are placed by their address.");
        }

        Console.WriteLine(callsPerNetwork <= 1
            ? "budget on: the privacy defaults (reveal budget, rate limit), every call from a client network never seen before (see SpreadNetworks); off: neither."
            : $"budget on: the privacy defaults (reveal budget, rate limit), each client network making {callsPerNetwork} calls in a row, the first finding it new (see SpreadNetworks); off: neither.");
        Console.WriteLine($"{"mirrors",8} {"placed",7} {"budget",6} | {"in-process",11} {"CPU",9} | {"h2load: FindMirror",19} {"trivial",9} {"ratio",6} | {"ahm client: FindMirror",23} {"trivial",9} {"ratio",6} {"p50",7} {"p99",7} | {"RSS",7} {"peak",7} | load");
        var figures = new List<(int Mirrors, bool Budget, Figures Figures)>();
        for (var round = 0; round < rounds; round++)
        {
            foreach (var size in sizes)
            {
                foreach (var budget in (bool[])[true, false])
                {
                    figures.Add((size, budget, await MeasureSizeAsync(size, seconds, geoFile, inProcessOnly, budget, callsPerNetwork)));
                }
            }
        }

        Console.WriteLine("the budget's cost, FindMirror calls/s with it on / off (1.00 = free; goal ≥ 0.90), median over rounds:");
        foreach (var size in sizes)
        {
            var on = figures.Where(f => f.Mirrors == size && f.Budget).Select(f => f.Figures).ToList();
            var off = figures.Where(f => f.Mirrors == size && !f.Budget).Select(f => f.Figures).ToList();
            var inProcess = $"in-process {Median(off.Select(f => f.InProcessMicros)):F2} → {Median(on.Select(f => f.InProcessMicros)):F2} µs per call";
            if (inProcessOnly)
            {
                Console.WriteLine($"{size,8:N0}: {inProcess}");
                continue;
            }

            var h2 = on.All(f => f.H2Find is not null) && off.All(f => f.H2Find is not null)
                ? $"h2load {Median(on.Select(f => f.H2Find!.Value)) / Median(off.Select(f => f.H2Find!.Value)):F2} (trivial {Median(on.Select(f => f.H2Trivial!.Value)) / Median(off.Select(f => f.H2Trivial!.Value)):F2})"
                : "h2load -";
            Console.WriteLine($"{size,8:N0}: {h2}, ahm client {Median(on.Select(f => f.Find)) / Median(off.Select(f => f.Find)):F2} (trivial {Median(on.Select(f => f.Trivial)) / Median(off.Select(f => f.Trivial)):F2}), {inProcess}");

            // The two processes of a round differ by more than the budget costs (the trivial method's own on/off ratio
            // swings 0.85-1.20 here), so each side's FindMirror rate is also taken against its own trivial rate.
            var pairedH2 = on.Zip(off).Where(p => p.First.H2Find is not null && p.Second.H2Find is not null)
                .Select(p => p.First.H2Find!.Value / p.First.H2Trivial!.Value / (p.Second.H2Find!.Value / p.Second.H2Trivial!.Value)).ToList();
            var pairedClient = on.Zip(off).Select(p => p.First.Find / p.First.Trivial / (p.Second.Find / p.Second.Trivial)).ToList();
            Console.WriteLine($"{string.Empty,8}  each against its own trivial rate, per round: h2load {Spread(pairedH2)}, ahm client {Spread(pairedClient)}");
        }

        return 0;
    }

    /// <summary>Starts this program as a coordinator host (<c>findmirror --host …</c>); it prints <c>ready PORT …</c> and serves until its stdin closes.</summary>
    internal static Process StartHost(IEnumerable<string> args)
    {
        var self = Environment.GetCommandLineArgs()[0];
        var start = new ProcessStartInfo(Environment.ProcessPath!)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        // Under `dotnet ahm-bench.dll` the host needs the assembly; the built `ahm-bench` executable is the program
        // itself, and GetCommandLineArgs()[0] names its .dll there too, which it would take for the benchmark's name.
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet" && self.EndsWith(".dll", StringComparison.Ordinal))
        {
            start.ArgumentList.Add(self);
        }

        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        // The same collector as ahm-coordinator's runtimeconfig (ServerGarbageCollection in its project file),
        // unless the caller chose one (DOTNET_gcServer and the other DOTNET_GC* settings reach the host as they would the coordinator).
        start.Environment.TryAdd("DOTNET_gcServer", "1");
        return Process.Start(start)!;
    }

    /// <summary>One coordinator per size, each in a fresh process, so that RSS is that size's alone and the load generators do not share its heap.</summary>
    private sealed record Figures(double InProcessMicros, double? H2Find, double? H2Trivial, double Find, double Trivial);

    private static string Spread(List<double> ratios) => ratios.Count == 0
        ? "-"
        : string.Create(CultureInfo.InvariantCulture, $"{Median(ratios):F2} ({ratios.Min():F2}-{ratios.Max():F2})");

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? double.NaN : sorted[sorted.Length / 2];
    }

    private static async Task<Figures> MeasureSizeAsync(int mirrors, int seconds, string? geo, bool inProcessOnly, bool budget, int callsPerNetwork)
    {
        using var host = StartHost(["findmirror", "--host", mirrors.ToString(CultureInfo.InvariantCulture), budget ? "on" : "off", .. geo is { } g ? [g] : Array.Empty<string>(), "--calls-per-network", callsPerNetwork.ToString(CultureInfo.InvariantCulture)]);
        try
        {
            using var ready = new CancellationTokenSource(TimeSpan.FromMinutes(5));
            var line = await host.StandardOutput.ReadLineAsync(ready.Token) ?? throw new InvalidOperationException("the coordinator host ended before it was ready");
            var parts = line.Split(' ');
            var port = int.Parse(parts[1], CultureInfo.InvariantCulture);
            var inProcessMicros = double.Parse(parts[2], CultureInfo.InvariantCulture);
            var inProcessCpuMicros = double.Parse(parts[3], CultureInfo.InvariantCulture);
            var placed = geo is null ? "hint" : "geoip";
            if (inProcessOnly)
            {
                Console.WriteLine($"{mirrors,8:N0} {placed,7} {(budget ? "on" : "off"),6} | {inProcessMicros,8:F2} µs {inProcessCpuMicros,6:F2} µs");
                return new Figures(inProcessMicros, null, null, double.NaN, double.NaN);
            }

            var requests = Requests(new Random(7), 4096, withHint: geo is null);

            using var channel = GrpcChannels.Create($"http://127.0.0.1:{port}");
            var matching = new MatchingClient(channel);
            var health = new HealthClient(channel);

            // Both methods warm over the transport first, as long as they are measured: in the first
            // seconds the JIT's tiers, not the method, decide the figures (35k calls/s cold, 70k warm).
            await MeasureAsync(i => matching.FindMirrorAsync(requests[i % requests.Length]).ResponseAsync, TimeSpan.FromSeconds(2));
            await MeasureAsync(_ => health.CheckAsync(new HealthCheckRequest()).ResponseAsync, TimeSpan.FromSeconds(2));
            await H2LoadAsync(port, "/ahm.v1.Matching/FindMirror", requests[0], seconds);
            await H2LoadAsync(port, "/grpc.health.v1.Health/Check", new HealthCheckRequest(), seconds);

            var h2Find = await H2LoadAsync(port, "/ahm.v1.Matching/FindMirror", requests[0], seconds);
            var h2Trivial = await H2LoadAsync(port, "/grpc.health.v1.Health/Check", new HealthCheckRequest(), seconds);

            var find = await MeasureAsync(i => matching.FindMirrorAsync(requests[i % requests.Length]).ResponseAsync, TimeSpan.FromSeconds(seconds));
            var trivial = await MeasureAsync(_ => health.CheckAsync(new HealthCheckRequest()).ResponseAsync, TimeSpan.FromSeconds(seconds));

            var (rss, peak) = MemoryOf(host.Id);
            var h2 = h2Find is { } f && h2Trivial is { } t ? $"{f,19:N0} {t,9:N0} {f / t,6:F2}" : $"{"(h2load not installed)",36}";
            Console.WriteLine(
                $"{mirrors,8:N0} {placed,7} {(budget ? "on" : "off"),6} | {inProcessMicros,8:F2} µs {inProcessCpuMicros,6:F2} µs | {h2} | {find.PerSecond,23:N0} {trivial.PerSecond,9:N0} {find.PerSecond / trivial.PerSecond,6:F2} {find.P50,5:F2}ms {find.P99,5:F2}ms | {rss,4:F0} MB {peak,4:F0} MB | {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
            return new Figures(inProcessMicros, h2Find, h2Trivial, find.PerSecond, trivial.PerSecond);
        }
        finally
        {
            host.StandardInput.Close();
            if (!host.WaitForExit(TimeSpan.FromSeconds(30)))
            {
                host.Kill(entireProcessTree: true);
            }
        }
    }

    /// <summary>The coordinator side: populated in-process, measured alone for its own cost per answer, then serving until stdin closes.</summary>
    private static async Task HostAsync(int mirrors, bool budget, string? geo, string? store, string? storePasswordFile, bool serveOnly, bool openRegistration, int callsPerNetwork)
    {
        using var dir = new TempDir("ahm-bench");
        var options = new CoordinatorOptions
        {
            Listen = "127.0.0.1:0",
            AdminListen = "127.0.0.1:0",
            MetricsListen = "off",
            DataDir = dir.Path,
            Store = store,
            StorePasswordFile = storePasswordFile,
        };
        options.Pings.Interval = TimeSpan.FromHours(12); // the mirrors are made up: nobody to ping
        options.Matching.LeaseTtl = TimeSpan.FromSeconds(10);
        options.Matching.Official = [];
        options.GeoIp = geo;
        if (openRegistration)
        {
            options.Keys.RegistrationsPerNetworkPerHour = 1_000_000; // every load client is on 127.0.0.1
        }

        if (!budget)
        {
            options.Privacy.RevealBudget = 0;
            options.Privacy.FindMirrorPerMinute = 0;
        }

        using var host = CoordinatorHost.Build(options, logging => logging.SetMinimumLevel(LogLevel.Warning), replace: budget ? SpreadNetworks.Replace(callsPerNetwork) : null);
        await host.StartAsync();
        try
        {
            var directory = host.Services.GetRequiredService<MirrorDirectory>();
            Populate(directory, mirrors, new Random(42));
            var service = host.Services.GetRequiredService<MirrorMatcher>();
            var port = host.Services.GetRequiredService<CoordinatorListeners>().Public.Server.Port;
            // Steady state: the garbage of populating is not the answers' cost.
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            var clients = geo is null ? [IPAddress.Loopback] : BenchCityDatabase.Clients(GeoNetworks, 4096, new Random(9));
            var (inProcessMicros, cpuMicros) = serveOnly ? (0, 0) : InProcess(service, Requests(new Random(7), 4096, withHint: geo is null), clients);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ready {port} {inProcessMicros:F2} {cpuMicros:F2}"));

            // "budget on|off" switches the privacy settings of this very process (they are read per call), so that
            // both sides of a comparison share one heap, one JIT state and one connection (BudgetToggleBenchmark).
            var defaults = new AdHocMirror.Coordinator.Matching.Privacy.PrivacyOptions();
            while (await Console.In.ReadLineAsync() is { } command)
            {
                if (command is "budget on" or "budget off")
                {
                    var on = command == "budget on";
                    options.Privacy.RevealBudget = on ? defaults.RevealBudget : 0;
                    options.Privacy.FindMirrorPerMinute = on ? defaults.FindMirrorPerMinute : 0;
                    Console.WriteLine("ok " + command);
                }
            }
        }
        finally
        {
            await host.StopAsync();
        }
    }

    private static (double Rss, double Peak) MemoryOf(int pid)
    {
        double Field(string[] lines, string name) =>
            lines.Where(l => l.StartsWith(name, StringComparison.Ordinal)).Select(l => double.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024).FirstOrDefault();
        var status = File.ReadAllLines($"/proc/{pid}/status");
        return (Field(status, "VmRSS:"), Field(status, "VmHWM:"));
    }

    private static void Populate(MirrorDirectory directory, int count, Random random)
    {
        var version = new TreeVersion { Protocol = Protocol.Rsync, Generated = Timestamp.FromDateTimeOffset(new DateTimeOffset(2026, 11, 21, 0, 45, 1, TimeSpan.Zero)) };
        var now = DateTimeOffset.UtcNow;
        for (var i = 0; i < count; i++)
        {
            var (lat, lon) = LandPoint(random);
            var key = i.ToString("x32", CultureInfo.InvariantCulture);
            var session = "s" + key;
            directory.Open(new OpenSession(
                key, session, new byte[32],
                new MirrorEndpoints { RsyncUri = $"rsync://mirror{i}.example:8873/gentoo-portage", PingAddress = "192.0.2.1:7472" },
                [version],
                new LoadLimits { MaxClients = 1_000_000 } /* never full: the figures are of searching, not of refusing */,
                null,
                new MirrorLocation(new GeoPoint { Latitude = lat, Longitude = lon }, "somewhere"),
                now,
                false));
            directory.RecordPing(key, session, new PingOutcome(now, 1, new PingReply { ActiveConnections = (uint)random.Next(5) }), 3);
        }
    }

    internal static FindMirrorRequest[] Requests(Random random, int count, bool withHint) => Enumerable.Range(0, count).Select(_ =>
    {
        var (lat, lon) = LandPoint(random);
        return new FindMirrorRequest
        {
            Protocol = Protocol.Rsync,
            Current = new TreeVersion { Protocol = Protocol.Rsync, Generated = Timestamp.FromDateTimeOffset(new DateTimeOffset(2026, 11, 20, 0, 45, 1, TimeSpan.Zero)) },
            Hint = withHint ? new LocationHint { Point = new GeoPoint { Latitude = lat, Longitude = lon } } : null,
            Count = 3,
        };
    }).ToArray();

    private static (double Lat, double Lon) LandPoint(Random random)
    {
        var pick = random.Next(Land.Sum(l => l.Weight));
        foreach (var box in Land)
        {
            if ((pick -= box.Weight) < 0)
            {
                return (box.Lat0 + (random.NextDouble() * (box.Lat1 - box.Lat0)), box.Lon0 + (random.NextDouble() * (box.Lon1 - box.Lon0)));
            }
        }

        throw new UnreachableException();
    }

    /// <summary>
    /// The coordinator's own cost of an answer: locate, search, lease, reply; no transport. Five runs of
    /// 100,000 calls; the median run's wall-clock and CPU time per call.
    /// </summary>
    private static (double WallMicros, double CpuMicros) InProcess(MirrorMatcher matcher, FindMirrorRequest[] requests, IPAddress[] clients)
    {
        for (var i = 0; i < 20_000; i++)
        {
            _ = matcher.Find(requests[i % requests.Length], clients[i % clients.Length]);
        }

        const int Calls = 100_000;
        var runs = new List<(double Wall, double Cpu)>();
        for (var run = 0; run < 5; run++)
        {
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var pause = GC.GetTotalPauseDuration();
            var (gen0, gen1, gen2) = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));
            var allocated = GC.GetTotalAllocatedBytes();
            var watch = Stopwatch.StartNew();
            for (var i = 0; i < Calls; i++)
            {
                _ = matcher.Find(requests[i % requests.Length], clients[i % clients.Length]);
            }

            // CPU time of the whole process (collector threads included) tells the cost when other work shares the machine.
            var cpuMicros = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds * 1000 / Calls;
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"in-process: {watch.Elapsed.TotalMilliseconds * 1000 / Calls:F2} µs wall, {cpuMicros:F2} µs CPU per call; {(GC.GetTotalAllocatedBytes() - allocated) / Calls} bytes allocated per call; collections {GC.CollectionCount(0) - gen0}/{GC.CollectionCount(1) - gen1}/{GC.CollectionCount(2) - gen2}, paused {(GC.GetTotalPauseDuration() - pause).TotalMilliseconds:F0} ms"));
            runs.Add((watch.Elapsed.TotalMilliseconds * 1000 / Calls, cpuMicros));
        }

        return (runs.Select(r => r.Wall).Order().ElementAt(2), runs.Select(r => r.Cpu).Order().ElementAt(2));
    }

    internal static async Task<(double PerSecond, double P50, double P99)> MeasureAsync(Func<int, Task> call, TimeSpan duration)
    {
        var watch = Stopwatch.StartNew();
        var latencies = new List<double>[64];
        var next = 0;
        var workers = Enumerable.Range(0, 64).Select(w =>
        {
            var mine = latencies[w] = new List<double>(100_000);
            return Task.Run(async () =>
            {
                while (watch.Elapsed < duration)
                {
                    var started = Stopwatch.GetTimestamp();
                    await call(Interlocked.Increment(ref next));
                    mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                }
            });
        }).ToArray();
        await Task.WhenAll(workers);
        var all = latencies.SelectMany(l => l).Order().ToArray();
        return (all.Length / watch.Elapsed.TotalSeconds, WireBenchmark.Percentile(all, 0.5), WireBenchmark.Percentile(all, 0.99));
    }

    internal static async Task<double?> H2LoadAsync(int port, string path, Google.Protobuf.IMessage request, int seconds)
    {
        if (!ExternalProcess.Exists("h2load"))
        {
            return null;
        }

        var body = Path.GetTempFileName();
        try
        {
            await File.WriteAllBytesAsync(body, AdHocMirror.Testing.Hostile.RawGrpc.Frame(request));
            var run = await ExternalProcess.RunAsync("h2load",
            [
                "-D", seconds.ToString(CultureInfo.InvariantCulture), "-c", "1", "-t", "1", "-m", "64",
                "-d", body, "-H", "content-type: application/grpc", "-H", "te: trailers",
                $"http://127.0.0.1:{port}{path}",
            ], timeout: TimeSpan.FromSeconds(seconds + 60));
            var match = RequestsPerSecond().Match(run.Stdout);
            return match.Success ? double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : null;
        }
        finally
        {
            File.Delete(body);
        }
    }

    [GeneratedRegex(@"finished in [^,]+, ([0-9.]+) req/s")]
    private static partial Regex RequestsPerSecond();
}
