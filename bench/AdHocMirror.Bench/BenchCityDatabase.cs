using System.Globalization;
using System.Net;
using System.Text;
using AdHocMirror.Testing;

namespace AdHocMirror.Bench;

/// <summary>
/// A City database for the FindMirror benchmark, written by MaxMind::DB::Writer: <c>networks</c> /16 networks
/// (1.0.0.0/16 onwards) each at its own place on land, and 127.0.0.0/8 (the benchmark's own connections) in Europe.
/// </summary>
internal static class BenchCityDatabase
{
    private const string Writer = """
        use strict; use warnings;
        use MaxMind::DB::Writer::Tree;
        my %types = (city => 'map', names => 'map', en => 'utf8_string', de => 'utf8_string', country => 'map', iso_code => 'utf8_string',
          continent => 'map', code => 'utf8_string', location => 'map', latitude => 'double', longitude => 'double',
          accuracy_radius => 'uint16', time_zone => 'utf8_string', subdivisions => ['array', 'map']);
        my $tree = MaxMind::DB::Writer::Tree->new(ip_version => 6, record_size => 28, database_type => 'AHM-Bench-City',
          languages => ['en'], description => { en => 'bench' }, map_key_type_callback => sub { $types{ $_[0] } },
          remove_reserved_networks => 0);
        open my $in, '<', $ARGV[0] or die;
        while (my $line = <$in>) {
          chomp $line; my ($net, $lat, $lon, $i) = split /\t/, $line;
          $tree->insert_network($net, { city => { names => { en => "City $i", de => "Stadt $i" } }, country => { iso_code => 'C' . ($i % 200), names => { en => "Country $i" } },
            continent => { code => 'EU', names => { en => 'Somewhere' } }, subdivisions => [ { iso_code => 'S' . ($i % 50), names => { en => "Region $i" } } ],
            location => { latitude => $lat + 0, longitude => $lon + 0, accuracy_radius => 100, time_zone => 'Europe/Berlin' } });
        }
        open my $fh, '>:raw', $ARGV[1] or die; $tree->write_tree($fh); close $fh;
        """;

    public static async Task WriteAsync(string path, int networks, Func<Random, (double Lat, double Lon)> landPoint)
    {
        var random = new Random(1123);
        var rows = new StringBuilder();
        for (var i = 0; i < networks; i++)
        {
            var (lat, lon) = landPoint(random);
            rows.Append(CultureInfo.InvariantCulture, $"{Network(i)}\t{lat:F4}\t{lon:F4}\t{i}\n");
        }

        rows.Append("127.0.0.0/8\t50.1\t8.7\t-1\n");
        var script = path + ".pl";
        var input = path + ".tsv";
        await File.WriteAllTextAsync(script, Writer);
        await File.WriteAllTextAsync(input, rows.ToString());
        (await ExternalProcess.RunAsync("/usr/bin/perl", [script, input, path], timeout: TimeSpan.FromMinutes(10))).EnsureSuccess("MaxMind::DB::Writer");
        File.Delete(script);
        File.Delete(input);
    }

    /// <summary>Client addresses spread over the database's networks, as the coordinator would see them.</summary>
    public static IPAddress[] Clients(int networks, int count, Random random) =>
        Enumerable.Range(0, count).Select(_ =>
        {
            var i = random.Next(networks);
            return new IPAddress([(byte)(1 + (i / 256)), (byte)(i % 256), (byte)random.Next(256), (byte)random.Next(1, 255)]);
        }).ToArray();

    private static string Network(int i) => $"{1 + (i / 256)}.{i % 256}.0.0/16";
}
