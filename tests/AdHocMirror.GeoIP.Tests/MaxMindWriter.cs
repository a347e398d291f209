using AdHocMirror.Testing;

namespace AdHocMirror.GeoIP.Tests;

/// <summary>
/// Writes .mmdb files with MaxMind's own writer (Debian libmaxmind-db-writer-perl), so that our reader
/// is tested against files it did not make itself.
/// </summary>
public static class MaxMindWriter
{
    public const string Perl = "/usr/bin/perl";

    /// <summary>The values <see cref="Script"/> writes for 10.0.0.0/8, for the tests to compare with.</summary>
    public const string Text = "Zürich ☃";

    /// <summary>
    /// Arguments: output file, ip_version, record_size, English city name of 81.2.69.0/24. Reserved
    /// networks stay (remove_reserved_networks => 0) so 10/8 and 127/8 can be written.
    /// </summary>
    public const string Script = """
        use strict; use warnings; use utf8;
        use MaxMind::DB::Writer::Tree;
        use Math::BigInt;
        my ($out, $ip_version, $record_size, $city) = @ARGV;
        utf8::decode($city);
        my %types = (
          city => 'map', names => 'map', en => 'utf8_string', de => 'utf8_string',
          location => 'map', latitude => 'double', longitude => 'double', accuracy_radius => 'uint16', time_zone => 'utf8_string',
          country => 'map', iso_code => 'utf8_string', continent => 'map', code => 'utf8_string',
          subdivisions => ['array', 'map'],
          all => 'map', u16 => 'uint16', u32 => 'uint32', u64 => 'uint64', u128 => 'uint128', i32 => 'int32', small_i32 => 'int32',
          dbl => 'double', flt => 'float', yes => 'boolean', no => 'boolean', raw => 'bytes', list => ['array', 'uint32'],
          nested => 'map', deeper => ['array', 'map'], empty_map => 'map', empty_list => ['array', 'utf8_string'], text => 'utf8_string',
          long_text => 'utf8_string', zero64 => 'uint64', mid128 => 'uint128',
        );
        my $tree = MaxMind::DB::Writer::Tree->new(
          ip_version => $ip_version, record_size => $record_size, database_type => 'AHM-Test-City', languages => ['en', 'de'],
          description => { en => 'Ad Hoc Mirror test database' }, map_key_type_callback => sub { $types{ $_[0] } },
          remove_reserved_networks => 0,
        );
        $tree->insert_network('81.2.69.0/24', {
          city => { names => { en => $city, de => $city } }, country => { iso_code => 'GB' }, continent => { code => 'EU' },
          subdivisions => [ { iso_code => 'ENG', names => { en => 'England' } }, { iso_code => 'WBK', names => { en => 'West Berkshire' } } ],
          location => { latitude => 51.5142, longitude => -0.0931, accuracy_radius => 10, time_zone => 'Europe/London' } });
        $tree->insert_network('81.2.70.0/23', {
          city => { names => { en => 'Elsewhere' } }, country => { iso_code => 'GB' }, continent => { code => 'EU' },
          location => { latitude => -33.25, longitude => 151.125, accuracy_radius => 500, time_zone => 'Australia/Sydney' } });
        $tree->insert_network('10.0.0.0/8', { all => {
          u16 => 65535, u32 => 4294967295, u64 => Math::BigInt->new('18446744073709551615'), zero64 => 0,
          u128 => Math::BigInt->new('340282366920938463463374607431768211455'), mid128 => Math::BigInt->new('18446744073709551617'),
          i32 => -2147483648, small_i32 => -1, dbl => -123456.789, flt => 1.25, yes => 1, no => 0,
          raw => pack('C*', 0, 1, 0xAB, 0xFF), list => [1, 2, 3], text => 'Zürich ☃', long_text => ('x' x 70000),
          nested => { deeper => [ { text => 'a' }, { empty_map => {}, empty_list => [] } ] } } });
        $tree->insert_network('127.0.0.0/8', { city => { names => { en => 'Loopback' } } });
        if ($ip_version == 6) {
          $tree->insert_network('2001:db8::/32', { country => { iso_code => 'XX' }, location => { latitude => 1.5, longitude => 2.5 } });
        }
        open my $fh, '>:raw', $out or die "cannot write $out: $!";
        $tree->write_tree($fh);
        close $fh or die;
        """;

    public static bool Available => File.Exists(Perl) && ExternalProcess.Exists("mmdblookup");

    public static string? SkipReason => Available ? null : "MaxMind's Perl writer (/usr/bin/perl) or mmdblookup is not installed";

    public static async Task WriteAsync(string path, int ipVersion, int recordSize, string city = "London")
    {
        var script = path + ".pl";
        await File.WriteAllTextAsync(script, Script);
        var result = await ExternalProcess.RunAsync(Perl, [script, path, ipVersion.ToString(), recordSize.ToString(), city]);
        result.EnsureSuccess("MaxMind::DB::Writer");
        File.Delete(script);
    }
}

/// <summary>A theory that needs the Perl writer and mmdblookup; skipped, saying why, without them.</summary>
public sealed class WriterTheoryAttribute : TheoryAttribute
{
    public WriterTheoryAttribute() => Skip = MaxMindWriter.SkipReason;
}

/// <summary>A fact that needs the Perl writer; skipped, saying why, without it.</summary>
public sealed class WriterFactAttribute : FactAttribute
{
    public WriterFactAttribute() => Skip = MaxMindWriter.SkipReason;
}
