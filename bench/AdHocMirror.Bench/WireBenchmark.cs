using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using AdHocMirror.Hosting;
using AdHocMirror.Testing;
using AdHocMirror.Testing.Hostile;
using Grpc.Core;
using Grpc.Health.V1;
using Microsoft.Extensions.Logging.Abstractions;

namespace AdHocMirror.Bench;

/// <summary>
/// Unary calls/s of a trivial method (grpc.health.v1.Health/Check) over one h2c connection with
/// 64 calls in flight: our client → our server, and h2load → our server where h2load is installed.
/// </summary>
public static partial class WireBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var seconds = args.Length > 0 && int.TryParse(args[0], CultureInfo.InvariantCulture, out var s) ? s : 5;
        var external = args.Length > 1 ? args[1] : null;
        const int InFlight = 64;

        await using var server = GrpcServer.Create(
            [new GrpcEndpoint(new IPEndPoint(IPAddress.Loopback, 0))],
            new GrpcServerLimits(),
            NullLoggerFactory.Instance,
            new Readiness(),
            _ => { },
            _ => { });
        await server.StartAsync();
        var address = external ?? $"127.0.0.1:{server.Port}";
        Console.WriteLine($"wire benchmark: trivial unary method, 1 h2c connection, {InFlight} calls in flight, {seconds} s per run, {Environment.ProcessorCount} cores");

        using var channel = GrpcChannels.Create("http://" + address);
        var client = new HealthClient(channel);
        await MeasureAsync(client, InFlight, TimeSpan.FromSeconds(1)); // warm-up: JIT, connection, pools
        var (calls, elapsed, p50, p99) = await MeasureAsync(client, InFlight, TimeSpan.FromSeconds(seconds));
        var ours = calls / elapsed.TotalSeconds;
        Console.WriteLine($"  ahm client -> ahm server: {ours,10:N0} calls/s   p50 {p50:F2} ms   p99 {p99:F2} ms   ({calls:N0} calls)");

        if (ExternalProcess.Exists("h2load"))
        {
            var body = Path.GetTempFileName();
            await File.WriteAllBytesAsync(body, RawGrpc.Frame(new HealthCheckRequest()));
            var total = Math.Max(10_000, (int)(ours * seconds));
            var run = await ExternalProcess.RunAsync("h2load",
            [
                "-n", total.ToString(CultureInfo.InvariantCulture), "-c", "1", "-t", "1", "-m", InFlight.ToString(CultureInfo.InvariantCulture),
                "-d", body, "-H", "content-type: application/grpc", "-H", "te: trailers",
                $"http://{address}/grpc.health.v1.Health/Check",
            ], timeout: TimeSpan.FromMinutes(2));
            File.Delete(body);
            var match = RequestsPerSecond().Match(run.Stdout);
            var succeeded = SucceededLine().Match(run.Stdout);
            if (match.Success)
            {
                var h2load = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
                Console.WriteLine($"  h2load     -> ahm server: {h2load,10:N0} calls/s   ({succeeded.Value.Trim()})");
                Console.WriteLine($"  ratio ahm client / h2load: {ours / h2load:F2}");
            }
            else
            {
                Console.WriteLine($"  h2load: could not read its result:\n{run.Stdout}\n{run.Stderr}");
            }
        }
        else
        {
            Console.WriteLine("  h2load: not installed (Debian nghttp2-client); skipped");
        }

        return 0;
    }

    private static async Task<(long Calls, TimeSpan Elapsed, double P50, double P99)> MeasureAsync(HealthClient client, int inFlight, TimeSpan duration)
    {
        var stop = Stopwatch.StartNew();
        var latencies = new List<double>[inFlight];
        var workers = new Task[inFlight];
        for (var i = 0; i < inFlight; i++)
        {
            var mine = latencies[i] = new List<double>(200_000);
            workers[i] = Task.Run(async () =>
            {
                var request = new HealthCheckRequest();
                while (stop.Elapsed < duration)
                {
                    var started = Stopwatch.GetTimestamp();
                    await client.CheckAsync(request);
                    mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                }
            });
        }

        await Task.WhenAll(workers);
        var elapsed = stop.Elapsed;
        var all = latencies.SelectMany(l => l).Order().ToArray();
        return (all.Length, elapsed, Percentile(all, 0.50), Percentile(all, 0.99));
    }

    internal static double Percentile(double[] sorted, double p) => sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];

    [GeneratedRegex(@"finished in [^,]+, ([0-9.]+) req/s")]
    private static partial Regex RequestsPerSecond();

    [GeneratedRegex(@"requests: [^\n]*")]
    private static partial Regex SucceededLine();
}
