using System.Diagnostics;
using System.Globalization;
using AdHocMirror.Contracts;
using AdHocMirror.Testing;
using AdHocMirror.Testing.Load;

namespace AdHocMirror.Bench;

/// <summary>
/// <c>registrations [CALLS] [PER_SECOND] [--rounds N]</c>: three coordinators on one PostgreSQL take Register calls paced
/// at PER_SECOND (default 1,000), spread round-robin over the three; one is killed with SIGKILL after 40 % of the calls.
/// Prints the rate reached, what was acknowledged, and how many acknowledged registrations are missing from the
/// database afterwards (goal 0). The rate is what the load reached, not a target met: on a small machine the three
/// coordinators, PostgreSQL and the load share the cores.
/// </summary>
public static class RegistrationKillBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        if (PostgresServer.SkipReason is { } reason)
        {
            Console.Error.WriteLine($"registrations: {reason}");
            return 1;
        }

        var rounds = int.Parse(BenchCommandLine.ValueOf(args, "--rounds") ?? "1", CultureInfo.InvariantCulture);
        var positional = BenchCommandLine.Positional(args, "--rounds");
        var calls = positional.Length > 0 ? int.Parse(positional[0], CultureInfo.InvariantCulture) : 5_000;
        var perSecond = positional.Length > 1 ? int.Parse(positional[1], CultureInfo.InvariantCulture) : 1_000;
        Console.WriteLine($"registrations: {Environment.ProcessorCount} cores; {calls:N0} Register calls paced at {perSecond:N0}/s over three coordinators on one PostgreSQL; SIGKILL of one after 40 %.");

        var postgres = new PostgresServer();
        await postgres.InitializeAsync();
        var lostInAll = 0;
        try
        {
            for (var round = 1; round <= rounds; round++)
            {
                lostInAll += await RoundAsync(round, postgres, calls, perSecond);
            }
        }
        finally
        {
            await postgres.DisposeAsync();
        }

        Console.WriteLine($"acknowledged registrations lost over {rounds} round(s): {lostInAll} (goal 0)");
        return lostInAll == 0 ? 0 : 1;
    }

    private static async Task<int> RoundAsync(int round, PostgresServer postgres, int calls, int perSecond)
    {
        var database = (await postgres.CreateDatabaseAsync()).Split(';').Single(p => p.StartsWith("Database=", StringComparison.Ordinal))["Database=".Length..];
        string[] store = ["--store", $"postgres://{PostgresServer.User}@127.0.0.1:{postgres.Port}/{database}", "--store-password-file", postgres.PasswordFile];
        var processes = new List<Process>();
        var channels = new List<GrpcChannel>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                processes.Add(FindMirrorBenchmark.StartHost(["findmirror", "--host", "0", "off", "--serve-only", "--open-registration", .. store]));
            }

            foreach (var process in processes)
            {
                using var ready = new CancellationTokenSource(TimeSpan.FromMinutes(5));
                var line = await process.StandardOutput.ReadLineAsync(ready.Token) ?? throw new InvalidOperationException("a coordinator host ended before it was ready");
                channels.Add(GrpcChannels.Create($"http://127.0.0.1:{line.Split(' ')[1]}"));
            }

            var registries = channels.Select(c => new RegistryClient(c)).ToArray();
            var load = new RegistrationLoad([.. registries.Select(r => (Func<RegistryClient>)(() => r))], calls, perSecond);
            var victim = processes[0];
            var outcome = await load.RunAsync(0.4, () =>
            {
                victim.Kill(); // SIGKILL: no shutdown, no flush
                return victim.WaitForExitAsync();
            });

            var stored = (await postgres.PsqlAsync("SELECT key_id FROM keys", database)).Stdout
                .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
            var lost = outcome.Acknowledged.Count(k => !stored.Contains(k));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"round {round}: {outcome.Describe()}"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"round {round}: {stored.Count:N0} keys in the database; acknowledged registrations lost: {lost}; load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}"));
            return lost;
        }
        finally
        {
            foreach (var channel in channels)
            {
                channel.Dispose();
            }

            foreach (var process in processes)
            {
                if (!process.HasExited)
                {
                    process.StandardInput.Close();
                    if (!process.WaitForExit(TimeSpan.FromSeconds(30)))
                    {
                        process.Kill(entireProcessTree: true);
                    }
                }

                process.Dispose();
            }
        }
    }
}
