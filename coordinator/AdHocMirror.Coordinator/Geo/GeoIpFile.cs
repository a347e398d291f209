using AdHocMirror.GeoIP;
using AdHocMirror.GeoIP.Format;
using AdHocMirror.Hosting;

namespace AdHocMirror.Coordinator.Geo;

/// <summary>
/// Checks the <c>--geoip</c> file when the coordinator starts, so that a wrong one is a one-line configuration error
/// (exit 2) and not a failure of the host once listeners are open. Packages often ship the database compressed
/// (<c>GeoLite2-City.mmdb.gz</c>): that gets its own advice.
/// </summary>
public static class GeoIpFile
{
    private static readonly (byte[] Magic, string Format, string Tool)[] Compressed =
    [
        ([0x1F, 0x8B], "gzip", "gunzip"),
        ([0x28, 0xB5, 0x2F, 0xFD], "zstd", "unzstd"),
        ([0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00], "xz", "unxz"),
        ([0x42, 0x5A, 0x68], "bzip2", "bunzip2"),
        ([0x50, 0x4B, 0x03, 0x04], "zip", "unzip"),
    ];

    /// <summary>Throws <see cref="SettingsException"/> naming <c>--geoip</c> unless <paramref name="path"/> (when set) is a readable MaxMind database.</summary>
    public static void Check(string? path)
    {
        if (string.IsNullOrEmpty(path))
        {
            return;
        }

        if (Directory.Exists(path))
        {
            throw new SettingsException($"--geoip {path}: is a directory, not a MaxMind .mmdb file");
        }

        if (!File.Exists(path))
        {
            throw new SettingsException($"--geoip {path}: no such file");
        }

        try
        {
            Span<byte> head = stackalloc byte[8];
            int read;
            using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
            {
                read = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
            }

            foreach (var (magic, format, tool) in Compressed)
            {
                if (read >= magic.Length && head[..magic.Length].SequenceEqual(magic))
                {
                    throw new SettingsException($"--geoip {path}: {format}-compressed: {tool} it first and give the .mmdb file");
                }
            }

            using var database = CityDatabase.Open(path);
        }
        catch (InvalidDatabaseException e)
        {
            throw new SettingsException($"--geoip {path}: not a MaxMind database: {OneLine(e.Message, path)}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SettingsException($"--geoip {path}: cannot read it: {OneLine(e.Message, path)}");
        }
    }

    private static string OneLine(string message, string path)
    {
        var text = message.StartsWith(path + ": ", StringComparison.Ordinal) ? message[(path.Length + 2)..] : message;
        return text.ReplaceLineEndings(" ");
    }
}
