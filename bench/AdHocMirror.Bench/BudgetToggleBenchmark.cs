using System.Globalization;

namespace AdHocMirror.Bench;

/// <summary>
/// <c>findmirror --interleaved [SECONDS] [SIZES] [--pairs N]</c>: the reveal budget's cost in calls/s, measured in one
/// coordinator process that switches the privacy settings on and off between runs (on/off and off/on in turn), so
/// that each ratio compares two runs of the same process a few seconds apart. Separate processes per side (the default
/// mode) differ by more than the budget costs: the trivial method's own on/off ratio swings 0.7-1.2 there.
/// Every call with the budget on comes from a client network never seen before (<see cref="SpreadNetworks"/>).
/// </summary>
public static class BudgetToggleBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var pairs = int.Parse(BenchCommandLine.ValueOf(args, "--pairs") ?? "6", CultureInfo.InvariantCulture);
        var positional = BenchCommandLine.Positional(args, "--pairs");
        var seconds = positional.Length > 0 && int.TryParse(positional[0], CultureInfo.InvariantCulture, out var s) ? s : 3;
        int[] sizes = positional.Length > 1 ? positional[1].Split(',').Select(x => int.Parse(x, CultureInfo.InvariantCulture)).ToArray() : [1_000, 100_000];
        Console.WriteLine($"findmirror --interleaved: {Environment.ProcessorCount} cores, one coordinator process per size switching the budget on and off, {pairs} pairs of {seconds} s runs per load generator;");
        Console.WriteLine("budget on: the privacy defaults (reveal budget, rate limit), every call from a client network never seen before; off: neither.");
        foreach (var size in sizes)
        {
            await MeasureSizeAsync(size, seconds, pairs);
        }

        return 0;
    }

    private static async Task MeasureSizeAsync(int mirrors, int seconds, int pairs)
    {
        using var host = FindMirrorBenchmark.StartHost(["findmirror", "--host", mirrors.ToString(CultureInfo.InvariantCulture), "on"]);
        try
        {
            using var ready = new CancellationTokenSource(TimeSpan.FromMinutes(5));
            var line = await host.StandardOutput.ReadLineAsync(ready.Token) ?? throw new InvalidOperationException("the coordinator host ended before it was ready");
            var port = int.Parse(line.Split(' ')[1], CultureInfo.InvariantCulture);
            var requests = FindMirrorBenchmark.Requests(new Random(7), 4096, withHint: true);
            using var channel = GrpcChannels.Create($"http://127.0.0.1:{port}");
            var matching = new MatchingClient(channel);
            Task Call(int i) => matching.FindMirrorAsync(requests[i % requests.Length]).ResponseAsync;

            async Task Switch(bool on)
            {
                var command = on ? "budget on" : "budget off";
                await host.StandardInput.WriteLineAsync(command);
                await host.StandardInput.FlushAsync();
                using var answered = new CancellationTokenSource(TimeSpan.FromMinutes(1));
                var reply = await host.StandardOutput.ReadLineAsync(answered.Token);
                if (reply != "ok " + command)
                {
                    throw new InvalidOperationException($"the coordinator host answered '{reply}' to '{command}'");
                }
            }

            // Warm both sides over the transport first: in the first seconds the JIT's tiers decide the figures.
            foreach (var on in (bool[])[true, false])
            {
                await Switch(on);
                await FindMirrorBenchmark.MeasureAsync(Call, TimeSpan.FromSeconds(2));
                await FindMirrorBenchmark.H2LoadAsync(port, "/ahm.v1.Matching/FindMirror", requests[0], 2);
            }

            var h2 = new List<double>();
            var client = new List<double>();
            for (var pair = 0; pair < pairs; pair++)
            {
                var rates = new Dictionary<bool, (double? H2, double Client)>();
                foreach (var on in pair % 2 == 0 ? (bool[])[true, false] : [false, true])
                {
                    await Switch(on);
                    var h2Rate = await FindMirrorBenchmark.H2LoadAsync(port, "/ahm.v1.Matching/FindMirror", requests[0], seconds);
                    var clientRate = (await FindMirrorBenchmark.MeasureAsync(Call, TimeSpan.FromSeconds(seconds))).PerSecond;
                    rates[on] = (h2Rate, clientRate);
                }

                if (rates[true].H2 is { } h2On && rates[false].H2 is { } h2Off)
                {
                    h2.Add(h2On / h2Off);
                }

                client.Add(rates[true].Client / rates[false].Client);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{mirrors,8:N0} pair {pair + 1}: h2load {Rate(rates[true].H2)} on / {Rate(rates[false].H2)} off, ahm client {rates[true].Client,7:N0} on / {rates[false].Client,7:N0} off | load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}"));
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{mirrors,8:N0}: the budget's cost, FindMirror calls/s on / off, one process (goal ≥ 0.90): h2load {Spread(h2)}, ahm client {Spread(client)} (median, min-max of {pairs} pairs)"));
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

    private static string Rate(double? perSecond) => perSecond is { } r ? r.ToString("N0", CultureInfo.InvariantCulture).PadLeft(7) : "      -";

    private static string Spread(List<double> ratios)
    {
        if (ratios.Count == 0)
        {
            return "-";
        }

        var sorted = ratios.Order().ToArray();
        return string.Create(CultureInfo.InvariantCulture, $"{sorted[sorted.Length / 2]:F2} ({sorted[0]:F2}-{sorted[^1]:F2})");
    }
}
