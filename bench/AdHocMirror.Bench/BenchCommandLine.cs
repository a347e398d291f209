namespace AdHocMirror.Bench;

/// <summary><c>ahm-bench NAME [options]</c>: runs one benchmark and prints its figures.</summary>
public static class BenchCommandLine
{
    private static readonly Dictionary<string, (string Description, Func<string[], Task<int>> Run)> Benchmarks = new(StringComparer.Ordinal)
    {
        ["wire"] = ("unary calls/s of a trivial method over one h2c connection (our client, and h2load when present)", WireBenchmark.RunAsync),
        ["verify"] = ("GLEP 74 verification of a full-size generated tree (~150,000 files): files/s, MB/s, cold and warm", VerifyBenchmark.RunAsync),
        ["findmirror"] = ("FindMirror calls/s, p50/p99 and RSS with 1,000 / 10,000 / 100,000 mirrors online, against a trivial method on the same transport; --cluster: three coordinators on one PostgreSQL against one on SQLite", FindMirrorBenchmark.RunAsync),
        ["registrations"] = ("kill -9 of one of three coordinators on one PostgreSQL under Register calls paced at 1,000/s: the rate reached and acknowledged registrations lost (goal 0)", RegistrationKillBenchmark.RunAsync),
        ["sync"] = ("wall time of ahm-sync (first and incremental sync of a ~150,000-file tree from an rsync daemon on loopback, verification included) against bare rsync with portage's options, as a ratio", SyncBenchmark.RunAsync),
        ["simulate"] = ("wall and CPU time of ahm-simulate's default run (200,000 clients, 7 days, with and without volunteers) against the 60 s target", SimulateBenchmark.RunAsync),
        ["geo"] = ("MaxMind DB City lookups/s on 1 and 2 threads, and bytes allocated per lookup", GeoBenchmark.RunAsync),
    };

    public static async Task<int> InvokeAsync(string[] args)
    {
        if (args.Length == 0 || !Benchmarks.TryGetValue(args[0], out var bench))
        {
            Console.Error.WriteLine("usage: ahm-bench NAME [options]\n");
            foreach (var (name, (description, _)) in Benchmarks)
            {
                Console.Error.WriteLine($"  {name,-12} {description}");
            }

            return args.Length == 0 || args[0] is "--help" or "-h" ? 0 : 2;
        }

        try
        {
            return await bench.Run(args[1..]);
        }
        catch (Exception e) when (e is FormatException or OverflowException)
        {
            // Every benchmark reads its numbers with int.Parse: one message and the usage exit code, not a trace.
            Console.Error.WriteLine($"ahm-bench {args[0]}: a number was expected ({e.Message}); arguments: {string.Join(' ', args[1..])}");
            return 2;
        }
    }

    /// <summary>The value after option <paramref name="name"/>, or null when it is not given.</summary>
    internal static string? ValueOf(string[] args, string name) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;

    /// <summary>The arguments that are neither options nor the values of the options in <paramref name="valued"/>.</summary>
    internal static string[] Positional(string[] args, params string[] valued) =>
        args.Where((a, i) => !a.StartsWith("--", StringComparison.Ordinal) && (i == 0 || !valued.Contains(args[i - 1]))).ToArray();
}
