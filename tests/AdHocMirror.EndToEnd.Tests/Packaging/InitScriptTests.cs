using AdHocMirror.Testing;

namespace AdHocMirror.EndToEnd.Tests.Packaging;

/// <summary>What the init scripts would have openrc-run do, with the shipped conf.d and with overrides (no root needed).</summary>
public sealed class InitScriptTests : IDisposable
{
    private readonly TempDir _dir = new("ahm-initd");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Daemon_ShippedDefaults_SuperviseAsAhmWithTheDaemonsPaths()
    {
        var outcome = await InitScriptShell.RunAsync("ahm-daemon", new Dictionary<string, string> { ["AHM_DAEMON_CONFIG"] = _dir.Combine("absent.conf") });

        Assert.Equal("supervise-daemon", outcome.Variables["supervisor"]);
        Assert.Equal("/usr/bin/ahm-daemon", outcome.Variables["command"]);
        Assert.Equal(["run", "--config", _dir.Combine("absent.conf"), "--state-dir", "/var/lib/ahm-daemon", "--tree-dir", "/var/cache/ahm-daemon"], outcome.Words("command_args"));
        Assert.Equal("ahm:ahm", outcome.Variables["command_user"]);
        Assert.Equal("/run/ahm-daemon.pid", outcome.Variables["pidfile"]);
        Assert.Equal("TERM/30/KILL/5", outcome.Variables["retry"]);
        Assert.Equal("/var/log/ahm-daemon/ahm-daemon.log", outcome.Variables["error_log"]);
        Assert.Equal("status_detail", outcome.Variables["extra_started_commands"]);
        Assert.Contains("need net", outcome.Calls);
        Assert.Contains("use dns logger", outcome.Calls);

        // No configuration: start_pre refuses, naming the file, and creates nothing.
        Assert.Equal(1, outcome.StartPreStatus);
        Assert.Contains(_dir.Combine("absent.conf"), outcome.Errors, StringComparison.Ordinal);
        Assert.DoesNotContain(outcome.Calls, c => c.StartsWith("checkpath", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Daemon_ConfDOverrides_BecomeFlags_AndStartPreCreatesPrivateStateDirectory()
    {
        var config = _dir.Combine("daemon.conf");
        await File.WriteAllTextAsync(config, "public_host = mirror.example.net\n");
        var outcome = await InitScriptShell.RunAsync("ahm-daemon", new Dictionary<string, string>
        {
            ["AHM_DAEMON_CONFIG"] = config,
            ["AHM_DAEMON_BINARY"] = "/bin/true",
            ["AHM_DAEMON_STATE_DIR"] = _dir.Combine("state"),
            ["AHM_DAEMON_MAX_CLIENTS"] = "4",
            ["AHM_DAEMON_BANDWIDTH_LIMIT"] = "512",
            ["AHM_DAEMON_PROTOCOLS"] = "rsync",
            ["AHM_DAEMON_RSYNC_PORT"] = "10873",
            ["AHM_DAEMON_UPSTREAM"] = "rsync://rsync.example.org/gentoo-portage",
            ["AHM_DAEMON_OPTS"] = "--sync-timeout 30m",
        });

        Assert.Equal(
            ["run", "--config", config, "--state-dir", _dir.Combine("state"), "--tree-dir", "/var/cache/ahm-daemon",
             "--protocols", "rsync", "--rsync-port", "10873", "--max-clients", "4", "--bandwidth-limit", "512",
             "--upstream", "rsync://rsync.example.org/gentoo-portage", "--sync-timeout", "30m"],
            outcome.Words("command_args"));
        Assert.Equal(0, outcome.StartPreStatus);
        Assert.Contains($"checkpath -d -m 0750 -o ahm:ahm {_dir.Combine("state")}", outcome.Calls);
        Assert.Contains("checkpath -d -m 0750 -o ahm:ahm /var/log/ahm-daemon", outcome.Calls);
    }

    [Fact]
    public async Task Coordinator_ShippedDefaults_ServeOnTheDesignsAddresses()
    {
        var outcome = await InitScriptShell.RunAsync("ahm-coordinator", new Dictionary<string, string>
        {
            ["AHM_COORDINATOR_CONFIG"] = _dir.Combine("absent.conf"),
            ["AHM_COORDINATOR_BINARY"] = "/bin/true",
            ["AHM_COORDINATOR_DATA_DIR"] = _dir.Combine("data"),
        });

        Assert.Equal("supervise-daemon", outcome.Variables["supervisor"]);
        Assert.Equal(["serve", "--listen", "0.0.0.0:7470", "--admin-listen", "127.0.0.1:7471", "--data-dir", _dir.Combine("data")], outcome.Words("command_args"));
        Assert.Equal("ahm-coordinator:ahm-coordinator", outcome.Variables["command_user"]);
        Assert.Equal("/run/ahm-coordinator.pid", outcome.Variables["pidfile"]);
        Assert.Contains("need net", outcome.Calls);
        Assert.Equal(0, outcome.StartPreStatus);
        Assert.Contains($"checkpath -d -m 0750 -o ahm-coordinator:ahm-coordinator {_dir.Combine("data")}", outcome.Calls);
    }

    [Fact]
    public async Task Coordinator_GeoIpTlsAndConfig_BecomeFlags_AndHalfTlsIsRefused()
    {
        var config = _dir.Combine("coordinator.conf");
        var geoip = _dir.Combine("city.mmdb");
        var cert = _dir.Combine("c.pem");
        var key = _dir.Combine("k.pem");
        foreach (var file in (string[])[config, geoip, cert, key])
        {
            await File.WriteAllTextAsync(file, string.Empty);
        }

        var environment = new Dictionary<string, string>
        {
            ["AHM_COORDINATOR_CONFIG"] = config,
            ["AHM_COORDINATOR_BINARY"] = "/bin/true",
            ["AHM_COORDINATOR_LISTEN"] = "[::]:7470",
            ["AHM_COORDINATOR_GEOIP"] = geoip,
            ["AHM_COORDINATOR_TLS_CERT"] = cert,
            ["AHM_COORDINATOR_TLS_KEY"] = key,
        };
        var outcome = await InitScriptShell.RunAsync("ahm-coordinator", environment);
        Assert.Equal(
            ["serve", "--listen", "[::]:7470", "--admin-listen", "127.0.0.1:7471", "--data-dir", "/var/lib/ahm-coordinator",
             "--config", config, "--geoip", geoip, "--tls-cert", cert, "--tls-key", key],
            outcome.Words("command_args"));
        Assert.Equal(0, outcome.StartPreStatus);

        environment.Remove("AHM_COORDINATOR_TLS_KEY");
        var half = await InitScriptShell.RunAsync("ahm-coordinator", environment);
        Assert.Equal(1, half.StartPreStatus);
        Assert.Contains("AHM_COORDINATOR_TLS_KEY", half.Errors, StringComparison.Ordinal);

        environment["AHM_COORDINATOR_TLS_KEY"] = key;
        environment["AHM_COORDINATOR_GEOIP"] = _dir.Combine("missing.mmdb");
        var noGeo = await InitScriptShell.RunAsync("ahm-coordinator", environment);
        Assert.Equal(1, noGeo.StartPreStatus);
        Assert.Contains("missing.mmdb", noGeo.Errors, StringComparison.Ordinal);
    }
}
