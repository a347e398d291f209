using System.Globalization;
using System.Text;
using System.Text.Json;
using AdHocMirror.Contracts.V1;
using AdHocMirror.Daemon.Status;
using AdHocMirror.Daemon.Tests.Support;
using AdHocMirror.Hosting;
using AdHocMirror.Testing;

namespace AdHocMirror.Daemon.Tests.Cli;

/// <summary><c>ahm-daemon</c> as the init system runs it: a real process, started as root, stopped with SIGTERM.</summary>
public sealed class DaemonProcessTests
{
    [Fact]
    public async Task Run_drops_root_serves_reports_status_and_on_SIGTERM_logs_out_and_exits_cleanly_then_forget_key_retires_the_key()
    {
        await using var world = await MirrorWorld.StartAsync(new() { ["protocols"] = "rsync" }, startDaemon: false);
        var (config, settings) = await DaemonProcess.WriteConfigAsync(world, "rsync");

        var stderr = new StringBuilder();
        using var daemon = DaemonProcess.Start(["run", "--config", config], stderr);
        try
        {
            MirrorInfo? mirror = null;
            await Eventually.TrueAsync(async () => (mirror = await world.Coordinator.MirrorAsync(null)) is { State: AdHocMirror.Contracts.V1.MirrorState.Online },
                $"the daemon process comes online (stderr: {stderr})", TimeSpan.FromSeconds(60));

            // Never root: neither the daemon nor the rsync daemon it runs.
            Assert.NotEqual("0", UidOf(daemon.Id));
            var children = ProcessTable.ChildrenOf(daemon.Id);
            Assert.NotEmpty(children);
            Assert.All(children, child => Assert.NotEqual("0", UidOf(child.Pid)));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(settings["state_dir"]!, "key")));

            // status --json reads the running daemon's status file.
            var status = await ExternalProcess.RunAsync("dotnet", [DaemonProcess.Dll, "status", "--json", "--config", config]);
            Assert.True(status.ExitCode == 0, status.Stdout + status.Stderr);
            using (var json = JsonDocument.Parse(status.Stdout))
            {
                Assert.True(json.RootElement.GetProperty("running").GetBoolean());
                var s = json.RootElement.GetProperty("status");
                Assert.Equal(mirror!.KeyId, s.GetProperty("key_id").GetString());
                Assert.Equal(OfficialUpstream.FirstVersion, s.GetProperty("rsync").GetProperty("version").GetDateTimeOffset());
            }

            var human = await ExternalProcess.RunAsync("dotnet", [DaemonProcess.Dll, "status", "--config", config]);
            Assert.Contains("running", human.Stdout, StringComparison.Ordinal);
            Assert.Contains("2026-11-21T00:45:01Z", human.Stdout, StringComparison.Ordinal);

            var tooEarly = await ExternalProcess.RunAsync("dotnet", [DaemonProcess.Dll, "forget-key", "--config", config]);
            Assert.Equal(ExitCodes.Failure, tooEarly.ExitCode);
            Assert.Contains("stop it first", tooEarly.Stderr, StringComparison.Ordinal);

            (await ExternalProcess.RunAsync("kill", ["-TERM", daemon.Id.ToString(CultureInfo.InvariantCulture)])).EnsureSuccess("kill -TERM");
            using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await daemon.WaitForExitAsync(limit.Token);
            Assert.True(daemon.ExitCode == ExitCodes.Success, $"exit code {daemon.ExitCode}: {stderr}");
            Assert.Contains("Logged out", stderr.ToString(), StringComparison.Ordinal);

            // Logged out: out of matching at once; children stopped; status says so.
            var after = await world.Coordinator.MirrorAsync(mirror.KeyId);
            Assert.True(after is null || after.State == AdHocMirror.Contracts.V1.MirrorState.Offline, $"mirror still {after?.State}");
            Assert.NotEqual(0, (await ExternalProcess.RunAsync("rsync", ["--list-only", world.Options.RsyncUri + "/"])).ExitCode);
            Assert.Equal("stopped", StatusFile.Read(Path.Combine(settings["state_dir"]!, "status.json"))!.Session);
            Assert.Equal(ExitCodes.Unavailable, (await ExternalProcess.RunAsync("dotnet", [DaemonProcess.Dll, "status", "--config", config])).ExitCode);

            // forget-key retires the key at the coordinator and deletes it.
            var forget = await ExternalProcess.RunAsync("dotnet", [DaemonProcess.Dll, "forget-key", "--config", config]);
            Assert.True(forget.ExitCode == 0, forget.Stdout + forget.Stderr);
            Assert.False(File.Exists(Path.Combine(settings["state_dir"]!, "key")));
            var keys = await world.Coordinator.Admin.ListKeysAsync(new ListKeysRequest { IncludeTombstones = true });
            Assert.Contains(keys.Keys, k => k.KeyId == mirror.KeyId && k.State == KeyState.Retired);
        }
        finally
        {
            if (!daemon.HasExited)
            {
                daemon.Kill(entireProcessTree: true);
            }
        }
    }

    [Theory]
    [InlineData("max_clients = 0", "max_clients")]
    [InlineData("upstream = ftp://example.org/tree", "upstream")]
    [InlineData("sync_interval = soon", "sync_interval")]
    [InlineData("protocols = gopher", "protocols")]
    [InlineData("coordinator = not a url", "coordinator")]
    [InlineData("keyring = /nonexistent/keys.asc", "keyring")]
    [InlineData("colour = blue", "colour")]
    public async Task Bad_configuration_stops_start_up_with_exit_code_2_naming_the_setting(string line, string setting)
    {
        using var temp = new TempDir("ahm-daemon-conf");
        var config = temp.Combine("daemon.conf");
        await File.WriteAllTextAsync(config, $"state_dir = {temp.Combine("state")}\ntree_dir = {temp.Combine("tree")}\n{line}\n");
        var result = await ExternalProcess.RunAsync("dotnet", [DaemonProcess.Dll, "run", "--config", config]);
        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains(setting, result.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(temp.Combine("state")), "nothing was started");
    }

    [Fact]
    public async Task A_ping_port_in_use_stops_start_up_with_a_message_and_a_non_zero_exit()
    {
        using var temp = new TempDir("ahm-daemon-port");
        var key = await AdHocMirror.Testing.Trees.TestSigningKey.SharedAsync();
        File.Copy(key.PublicKeyFile, temp.Combine("keys.asc"));
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        var port = ((System.Net.IPEndPoint)taken.LocalEndpoint).Port;
        var config = temp.Combine("daemon.conf");
        await File.WriteAllTextAsync(config, $"""
            state_dir = {temp.Combine("state")}
            tree_dir = {temp.Combine("tree")}
            keyring = {temp.Combine("keys.asc")}
            user = nobody
            listen = 127.0.0.1
            ping_port = {port}
            rsync_port = {FreePort.Next()}
            protocols = rsync
            upstream = rsync://127.0.0.1:1/gentoo-portage
            coordinator = http://127.0.0.1:1
            """);
        var result = await ExternalProcess.RunAsync("dotnet", [DaemonProcess.Dll, "run", "--config", config], timeout: TimeSpan.FromSeconds(60));
        Assert.Equal(ExitCodes.Failure, result.ExitCode);
        Assert.Contains(port.ToString(CultureInfo.InvariantCulture), result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_config_file_named_with_config_is_a_usage_error()
    {
        var result = await ExternalProcess.RunAsync("dotnet", [DaemonProcess.Dll, "run", "--config", "/nonexistent/daemon.conf"]);
        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("/nonexistent/daemon.conf", result.Stderr, StringComparison.Ordinal);
    }

    private static string UidOf(int pid) =>
        File.ReadAllLines($"/proc/{pid}/status").First(l => l.StartsWith("Uid:", StringComparison.Ordinal)).Split('\t', StringSplitOptions.RemoveEmptyEntries)[2];
}
