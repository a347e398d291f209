using System.Diagnostics;
using System.Globalization;
using System.Net;
using AdHocMirror.GeoIP;
using AdHocMirror.GeoIP.Reloading;
using AdHocMirror.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace AdHocMirror.Bench;

/// <summary>
/// <c>ahm-bench geo [--file F.mmdb] [--seconds N]</c>: City lookups/s (MaxMind.Db) on one and two threads over a mix of
/// addresses (networks of the database and random IPv4/IPv6), and bytes allocated per lookup.
/// </summary>
public static class GeoBenchmark
{
    private const string GeneratorScript = """
        use strict; use warnings;
        use MaxMind::DB::Writer::Tree;
        my %types = (city => 'map', names => 'map', en => 'utf8_string', country => 'map', iso_code => 'utf8_string',
          continent => 'map', code => 'utf8_string', location => 'map', latitude => 'double', longitude => 'double',
          accuracy_radius => 'uint16', time_zone => 'utf8_string', subdivisions => ['array', 'map']);
        my $tree = MaxMind::DB::Writer::Tree->new(ip_version => 6, record_size => 28, database_type => 'AHM-Bench-City',
          languages => ['en'], description => { en => 'bench' }, map_key_type_callback => sub { $types{ $_[0] } },
          remove_reserved_networks => 0);
        for my $i (0 .. 4095) {
          my ($a, $b) = (1 + int($i / 32), ($i % 32) * 8);
          $tree->insert_network("$a.$b.0.0/13", { city => { names => { en => "City $i" } }, country => { iso_code => 'C' . ($i % 200) },
            continent => { code => 'EU' }, subdivisions => [ { iso_code => 'S' . ($i % 50), names => { en => "Region $i" } } ],
            location => { latitude => ($i % 180) - 90, longitude => ($i % 360) - 180, accuracy_radius => 100, time_zone => 'Europe/Berlin' } });
        }
        open my $fh, '>:raw', $ARGV[0] or die; $tree->write_tree($fh); close $fh;
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        var seconds = 2.0;
        string? file = null;
        for (var i = 0; i < args.Length - 1; i++)
        {
            switch (args[i])
            {
                case "--file":
                    file = args[++i];
                    break;
                case "--seconds":
                    seconds = double.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
            }
        }

        using var scratch = new TempDir("ahm-bench-geo");
        var networks = new List<IPAddress>();
        if (file is null && Conformance.Directory is { } fixtures)
        {
            file = Path.Combine(fixtures, "maxmind", "GeoLite2-City-Test.mmdb");
            var tsv = Path.ChangeExtension(file, ".networks.tsv");
            if (File.Exists(tsv))
            {
                networks.AddRange(File.ReadLines(tsv).Skip(1).Select(l => IPNetwork.Parse(l.Split('\t')[0]).BaseAddress));
            }
        }

        if (file is null)
        {
            file = scratch.Combine("bench.mmdb");
            var script = scratch.Combine("bench.pl");
            await File.WriteAllTextAsync(script, GeneratorScript);
            Console.WriteLine("generating a City database with MaxMind::DB::Writer (set AHM_CONFORMANCE_DIR to use GeoLite2-City-Test.mmdb)");
            (await ExternalProcess.RunAsync("/usr/bin/perl", [script, file])).EnsureSuccess("MaxMind::DB::Writer");
            for (var i = 0; i < 4096; i++)
            {
                networks.Add(IPAddress.Parse($"{1 + (i / 32)}.{(i % 32) * 8}.1.2"));
            }
        }

        using var database = CityDatabase.Open(file);
        var addresses = AddressMix(networks, 8192);
        var hits = addresses.Count(a => database.TryLookupCity(a, out _));
        Console.WriteLine($"database: {file} ({new FileInfo(file).Length:N0} bytes, {database.DatabaseType})");
        Console.WriteLine($"address mix: {addresses.Length:N0} addresses, {hits:N0} with a record ({100.0 * hits / addresses.Length:F0}%): the database's networks, random IPv4 and IPv6");

        Measure("warm-up", 1, 0.5, a => database.TryLookupCity(a, out _), addresses, print: false);
        Measure("TryLookupCity, 1 thread", 1, seconds, a => database.TryLookupCity(a, out _), addresses);
        Measure("TryLookupCity, 2 threads", 2, seconds, a => database.TryLookupCity(a, out _), addresses);
        Console.WriteLine($"  allocated per TryLookupCity: {AllocatedPerLookup(a => database.TryLookupCity(a, out _), addresses):F2} bytes");

        using var source = CityDatabaseSource.Open(new CityDatabaseSourceOptions { Path = file, CheckInterval = TimeSpan.FromHours(1) }, NullLogger<CityDatabaseSource>.Instance);
        Measure("CityDatabaseSource.TryLookupCity, 1 thread", 1, seconds, a => source.TryLookupCity(a, out _), addresses);
        Measure("CityDatabaseSource.TryLookupCity, 2 threads", 2, seconds, a => source.TryLookupCity(a, out _), addresses);
        Console.WriteLine($"  allocated per CityDatabaseSource.TryLookupCity: {AllocatedPerLookup(a => source.TryLookupCity(a, out _), addresses):F2} bytes");
        return 0;
    }

    private static IPAddress[] AddressMix(List<IPAddress> networks, int count)
    {
        var random = new Random(20261121);
        var mix = new IPAddress[count];
        Span<byte> v6 = stackalloc byte[16];
        for (var i = 0; i < count; i++)
        {
            switch (i % 4)
            {
                case 0 or 1 when networks.Count > 0:
                    mix[i] = networks[random.Next(networks.Count)];
                    break;
                case 2:
                    mix[i] = new IPAddress((long)(uint)random.Next());
                    break;
                default:
                    random.NextBytes(v6);
                    v6[0] = 0x20;
                    v6[1] = (byte)(random.Next(2) == 0 ? 0x01 : 0x02);
                    mix[i] = new IPAddress(v6);
                    break;
            }
        }

        return mix;
    }

    private static void Measure(string what, int threads, double seconds, Func<IPAddress, bool> lookup, IPAddress[] addresses, bool print = true)
    {
        var counts = new long[threads];
        var deadline = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            var n = 0L;
            var i = t * 997;
            while (true)
            {
                for (var k = 0; k < 1024; k++)
                {
                    lookup(addresses[i++ & (addresses.Length - 1)]);
                }

                n += 1024;
                if (Stopwatch.GetTimestamp() > deadline)
                {
                    break;
                }
            }

            counts[t] = n;
        })).ToList();
        workers.ForEach(w => w.Start());
        workers.ForEach(w => w.Join());
        clock.Stop();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
        if (print)
        {
            // The machine may be shared: lookups per CPU-second of this process says what the code costs.
            var total = counts.Sum();
            Console.WriteLine(
                $"{what}: {total / clock.Elapsed.TotalSeconds:N0} lookups/s wall-clock, {total / cpu.TotalSeconds:N0} lookups per CPU-second "
                + $"({cpu.TotalNanoseconds / total:F0} ns CPU per lookup; {cpu.TotalSeconds / clock.Elapsed.TotalSeconds:F2} cores busy)");
        }
    }

    private static double AllocatedPerLookup(Func<IPAddress, bool> lookup, IPAddress[] addresses)
    {
        const int lookups = 200_000;
        for (var i = 0; i < addresses.Length; i++)
        {
            lookup(addresses[i]);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < lookups; i++)
        {
            lookup(addresses[i & (addresses.Length - 1)]);
        }

        return (double)(GC.GetAllocatedBytesForCurrentThread() - before) / lookups;
    }
}
