using System.IO.Compression;
using System.Net.Sockets;
using AdHocMirror.Coordinator.Tests.Support;
using AdHocMirror.Hosting;
using AdHocMirror.Testing;

namespace AdHocMirror.Coordinator.Tests.Cli;

/// <summary><c>ahm-coordinator</c>'s command line: a wrong input is one line naming it and exit 2, before anything listens.</summary>
public sealed class ServeCommandLineTests
{
    public static TheoryData<string, string> BadDatabases => new()
    {
        { "GeoLite2-City.mmdb.gz", "gzip-compressed: gunzip it first" },
        { "missing.mmdb", "no such file" },
        { "text.mmdb", "not a MaxMind database" },
        { "empty.mmdb", "not a MaxMind database" },
        { "directory.mmdb", "is a directory" },
    };

    [Theory]
    [MemberData(nameof(BadDatabases))]
    public async Task A_bad_geoip_file_is_one_line_naming_geoip_and_exit_2_before_any_listener_opens(string name, string expected)
    {
        using var temp = new TempDir("ahm-geoip");
        await File.WriteAllTextAsync(temp.Combine("text.mmdb"), "this is not a database\n");
        await File.WriteAllBytesAsync(temp.Combine("empty.mmdb"), []);
        Directory.CreateDirectory(temp.Combine("directory.mmdb"));
        await using (var gz = new GZipStream(File.Create(temp.Combine("GeoLite2-City.mmdb.gz")), CompressionLevel.Fastest))
        {
            await gz.WriteAsync(new byte[4096]);
        }

        var (listen, admin) = (FreePort.Next(), FreePort.Next());
        var result = await CoordinatorProgram.RunAsync(
            "serve", "--geoip", temp.Combine(name), "--data-dir", temp.Combine("data"),
            "--listen", $"127.0.0.1:{listen}", "--admin-listen", $"127.0.0.1:{admin}", "--metrics-listen", "off");
        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        var line = Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("ahm-coordinator: --geoip ", line, StringComparison.Ordinal);
        Assert.Contains(expected, line, StringComparison.Ordinal);
        Assert.Empty(result.Stdout.Trim());
        Assert.False(Directory.Exists(temp.Combine("data")), "the data directory was prepared before the database was checked");
        foreach (var port in new[] { listen, admin })
        {
            using var client = new TcpClient();
            await Assert.ThrowsAnyAsync<SocketException>(() => client.ConnectAsync("127.0.0.1", port));
        }
    }

    [Theory]
    [InlineData("--bogus")]
    [InlineData("serve", "--bogus")]
    [InlineData("admin", "--bogus")]
    [InlineData("no-such-command")]
    public async Task A_bad_command_line_exits_2(params string[] args)
    {
        var result = await CoordinatorProgram.RunAsync(args);
        Assert.Equal(ExitCodes.Usage, result.ExitCode);
    }

    [Theory]
    [InlineData]
    [InlineData("serve")]
    [InlineData("admin")]
    [InlineData("admin", "mirrors")]
    [InlineData("admin", "keys")]
    public async Task Help_of_every_command_lists_every_exit_code(params string[] command)
    {
        var result = await CoordinatorProgram.RunAsync([.. command, "--help"]);
        Assert.Equal(ExitCodes.Success, result.ExitCode);
        foreach (var code in new[] { 0, 1, 2, 3, 4 })
        {
            Assert.Matches($@"[ :;]{code} [a-z]", result.Stdout);
        }
    }
}
