using AdHocMirror.Daemon.Configuration;
using AdHocMirror.Hosting;

namespace AdHocMirror.Daemon.Tests.Configuration;

public sealed class DaemonSettingsTests
{
    private static readonly Dictionary<string, string?> Empty = new();

    [Fact]
    public void Defaults_follow_the_design()
    {
        var options = DaemonSettings.Bind(Empty);
        Assert.Equal(7472, options.PingPort);
        Assert.Equal(8873, options.RsyncPort);
        Assert.Equal(9418, options.GitPort);
        Assert.Equal(ServedProtocols.Both, options.Protocols);
        Assert.Equal(TimeSpan.FromMinutes(30), options.SyncInterval);
        Assert.Equal("/usr/share/openpgp-keys/gentoo-release.asc", options.Keyring);
        Assert.Equal(UpstreamKind.Rsync, options.RsyncUpstream!.Kind);
        Assert.Equal(UpstreamKind.Git, options.GitUpstream!.Kind);
        Assert.Equal("ahm", options.User);
        Assert.Equal("rsync://127.0.0.1:8873/gentoo-portage", options.RsyncUri);
        Assert.Equal("git://127.0.0.1:9418/gentoo.git", options.GitUri);
    }

    [Fact]
    public void Flags_override_the_file_and_advertised_addresses_follow()
    {
        var file = SettingsFile.Parse(
            [
                "# daemon.conf", "public_host = mirror.example.org", "rsync-port = 10873", "max_clients = 5",
                "bandwidth_limit = 2048", "sync_interval = 45m", "protocols = rsync", "upstream = coordinator", "public_rsync_port = 873",
            ], "daemon.conf");
        var options = DaemonSettings.Bind(file, new Dictionary<string, string?> { ["max_clients"] = "9", ["public_host"] = "2001:db8::7" });
        Assert.Equal(9, options.MaxClients);
        Assert.Equal(2048, options.BandwidthKibps);
        Assert.Equal(TimeSpan.FromMinutes(45), options.SyncInterval);
        Assert.Equal(10873, options.RsyncPort);
        Assert.Equal(ServedProtocols.Rsync, options.Protocols);
        Assert.Equal(UpstreamKind.Coordinator, options.RsyncUpstream!.Kind);
        Assert.Null(options.GitUpstream);
        Assert.Equal("rsync://[2001:db8::7]:873/gentoo-portage", options.RsyncUri);
        Assert.Equal("[2001:db8::7]:7472", options.PingAddress);
    }

    [Theory]
    [InlineData("max_clients", "0")]
    [InlineData("max_clients", "lots")]
    [InlineData("bandwidth_limit", "-1")]
    [InlineData("rsync_port", "70000")]
    [InlineData("ping_port", "0")]
    [InlineData("sync_interval", "0s")]
    [InlineData("sync_interval", "often")]
    [InlineData("protocols", "ftp")]
    [InlineData("upstream", "ftp://example.org/x")]
    [InlineData("upstream", "rsync://example.org/")]
    [InlineData("coordinator", "ftp://example.org")]
    [InlineData("listen", "example.org")]
    [InlineData("state_dir", "relative/dir")]
    [InlineData("keyring", "/nonexistent/keyring.asc")]
    [InlineData("coordinator_trust", "/nonexistent/ca.pem")]
    [InlineData("user", "root")]
    [InlineData("public_host", "bad host!")]
    public void A_bad_value_is_refused_naming_the_setting(string key, string value)
    {
        var e = Assert.Throws<SettingsException>(() => DaemonSettings.Bind(new Dictionary<string, string?> { [key] = value }));
        Assert.StartsWith(key + ":", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Several_coordinators_are_kept_in_order_and_a_list_of_mixed_schemes_is_refused()
    {
        var options = DaemonSettings.Bind(new Dictionary<string, string?> { ["coordinator"] = "https://a.example.org:7470 https://b.example.org:7470,https://c.example.org:7470" });
        Assert.Equal(["https://a.example.org:7470/", "https://b.example.org:7470/", "https://c.example.org:7470/"], options.Coordinators.Targets.Select(t => t.ToString()));
        Assert.Equal(new Uri("https://a.example.org:7470"), options.Coordinator);

        var mixed = Assert.Throws<SettingsException>(() => DaemonSettings.Bind(new Dictionary<string, string?> { ["coordinator"] = "https://a.example.org:7470 http://b.example.org:7470" }));
        Assert.StartsWith("coordinator:", mixed.Message, StringComparison.Ordinal);
        var bare = Assert.Throws<SettingsException>(() => DaemonSettings.Bind(new Dictionary<string, string?> { ["coordinator"] = "https://a.example.org:7470 b.example.org:7470" }));
        Assert.Contains("'b.example.org:7470'", bare.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_settings_are_refused_so_typos_do_not_pass_silently()
    {
        var e = Assert.Throws<SettingsException>(() => DaemonSettings.Bind(new Dictionary<string, string?> { ["max_client"] = "3" }));
        Assert.Contains("max_client", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_served_protocol_needs_an_upstream_and_at_most_one_per_protocol()
    {
        Assert.Contains("git", Assert.Throws<SettingsException>(() => DaemonSettings.Bind(new Dictionary<string, string?> { ["upstream"] = "rsync://a.example/gentoo-portage" })).Message, StringComparison.Ordinal);
        Assert.Contains("more than one", Assert.Throws<SettingsException>(() => DaemonSettings.Bind(new Dictionary<string, string?> { ["upstream"] = "rsync://a.example/m rsync://b.example/m" })).Message, StringComparison.Ordinal);
        var options = DaemonSettings.Bind(new Dictionary<string, string?> { ["upstream"] = "rsync://a.example/gentoo-portage coordinator" });
        Assert.Equal(UpstreamKind.Rsync, options.RsyncUpstream!.Kind);
        Assert.Equal(UpstreamKind.Coordinator, options.GitUpstream!.Kind);
    }

    [Fact]
    public void Ports_must_differ()
    {
        Assert.Throws<SettingsException>(() => DaemonSettings.Bind(new Dictionary<string, string?> { ["rsync_port"] = "9418" }));
    }

    [Theory]
    [InlineData("anywhere", AdHocMirror.Contracts.V1.ServeTo.Types.Reach.Anywhere, 0u)]
    [InlineData("Country", AdHocMirror.Contracts.V1.ServeTo.Types.Reach.Country, 0u)]
    [InlineData("continent", AdHocMirror.Contracts.V1.ServeTo.Types.Reach.Continent, 0u)]
    [InlineData("500", AdHocMirror.Contracts.V1.ServeTo.Types.Reach.Radius, 500u)]
    [InlineData("250 km", AdHocMirror.Contracts.V1.ServeTo.Types.Reach.Radius, 250u)]
    public void ServeToBinds(string text, AdHocMirror.Contracts.V1.ServeTo.Types.Reach reach, uint radius)
    {
        var options = DaemonSettings.Bind(new Dictionary<string, string?> { ["serve_to"] = text });
        Assert.Equal(reach, options.ServeTo.Reach);
        Assert.Equal(radius, options.ServeTo.RadiusKm);
    }

    [Theory]
    [InlineData("moon")]
    [InlineData("0")]
    [InlineData("20001")]
    [InlineData("-5")]
    public void ABadServeToNamesTheSetting(string text)
    {
        var error = Assert.Throws<SettingsException>(() => DaemonSettings.Bind(new Dictionary<string, string?> { ["serve_to"] = text }));
        Assert.StartsWith("serve_to:", error.Message, StringComparison.Ordinal);
    }
}
