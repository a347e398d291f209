using AdHocMirror.Contracts.V1;
using AdHocMirror.Hosting;
using AdHocMirror.Sync.Cli;
using AdHocMirror.Sync.Configuration;
using AdHocMirror.Sync.Tests.Support;
using AdHocMirror.Testing;

namespace AdHocMirror.Sync.Tests.Configuration;

public sealed class SyncConfigurationTests
{
    private static string Keyring(TempDir dir)
    {
        var path = dir.Combine("keys.asc");
        File.WriteAllText(path, "placeholder");
        return path;
    }

    [Fact]
    public void Repos_conf_entry_gives_location_protocol_and_the_official_fallback()
    {
        using var dir = new TempDir("ahm-sync-conf");
        var conf = dir.Combine("repos.conf");
        Directory.CreateDirectory(conf);
        File.WriteAllText(Path.Combine(conf, "gentoo.conf"), """
            [DEFAULT]
            main-repo = gentoo

            [gentoo]
            location = /srv/repos/gentoo
            sync-type = git
            sync-uri = https://github.com/gentoo-mirror/gentoo.git
            """);

        var options = SyncConfiguration.Build(new SyncFlags { ReposConf = conf, Keyring = Keyring(dir) });

        Assert.Equal("/srv/repos/gentoo", options.Repository);
        Assert.Equal("gentoo", options.RepositoryName);
        Assert.Equal(Protocol.Git, options.Protocol);
        Assert.Equal(["https://github.com/gentoo-mirror/gentoo.git"], options.Official);
    }

    [Fact]
    public void Settings_file_then_flags_override_defaults()
    {
        using var dir = new TempDir("ahm-sync-conf");
        var file = dir.Combine("ahm-sync.conf");
        File.WriteAllText(file, $"""
            repo = {dir.Combine("repo")}
            coordinator = https://ahm.example.org:7470
            official = rsync://a.example/gentoo-portage, rsync://b.example/gentoo-portage
            candidates = 5
            near = 48.14,11.58
            transfer-timeout = 10m
            keyring = {Keyring(dir)}
            """);

        var options = SyncConfiguration.Build(new SyncFlags { Config = file, ReposConf = dir.Combine("none"), Candidates = 2, Near = "fr" });

        Assert.Equal(dir.Combine("repo"), options.Repository);
        Assert.Equal(Protocol.Rsync, options.Protocol);
        Assert.Equal("https://ahm.example.org:7470", options.Coordinator);
        Assert.Equal(["rsync://a.example/gentoo-portage", "rsync://b.example/gentoo-portage"], options.Official);
        Assert.Equal(2u, options.Candidates);
        Assert.Equal("FR", options.Near!.CountryCode);
        Assert.Equal(TimeSpan.FromMinutes(10), options.TransferTimeout);
    }

    [Theory]
    [InlineData("--near", "somewhere", "near")]
    [InlineData("--transfer-timeout", "soon", "transfer-timeout")]
    [InlineData("--coordinator", "ftp://x", "coordinator")]
    [InlineData("--official", "git://wrong.example/gentoo.git", "official")]
    public async Task Bad_settings_exit_2_naming_the_setting(string flag, string value, string named)
    {
        using var dir = new TempDir("ahm-sync-conf");
        using var stdout = new StringWriter();
        var code = await SyncCommandLine.InvokeAsync(
            ["--repo", dir.Combine("repo"), "--repos-conf", dir.Combine("none"), "--keyring", Keyring(dir), "--json", flag, value], stdout, new StringWriter());

        Assert.Equal(ExitCodes.Usage, code);
        var result = SyncWorld.Parse(code, stdout.ToString(), string.Empty);
        Assert.Equal("configuration_error", result.Status);
        Assert.StartsWith($"configuration error: {named}:", result.Result.GetProperty("message").GetString());
    }

    [Fact]
    public async Task Missing_keyring_is_a_configuration_error_that_says_what_to_install()
    {
        using var dir = new TempDir("ahm-sync-conf");
        using var stderr = new StringWriter();
        var code = await SyncCommandLine.InvokeAsync(["--repo", dir.Combine("repo"), "--repos-conf", dir.Combine("none"), "--keyring", dir.Combine("missing.asc")], new StringWriter(), stderr);

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("openpgp-keys-gentoo-release", stderr.ToString());
    }

    [Fact]
    public void Repos_conf_entry_switched_to_ahm_gives_the_coordinator_and_the_sync_ahm_settings()
    {
        using var dir = new TempDir("ahm-sync-conf");
        var conf = dir.Combine("repos.conf");
        var keyring = Keyring(dir);
        File.WriteAllText(conf, $"""
            [DEFAULT]
            main-repo = gentoo

            [gentoo]
            location = /srv/repos/gentoo
            sync-type = ahm
            sync-uri = https://ahm.example.org:7470
            sync-ahm-protocol = git
            sync-ahm-official = https://anongit.example.org/gentoo.git
                git://git.example.org/gentoo.git
            sync-openpgp-key-path: {keyring}
            """);

        var options = SyncConfiguration.Build(new SyncFlags { ReposConf = conf });

        Assert.Equal("/srv/repos/gentoo", options.Repository);
        Assert.Equal("https://ahm.example.org:7470", options.Coordinator);
        Assert.Equal(Protocol.Git, options.Protocol);
        Assert.Equal(["https://anongit.example.org/gentoo.git", "git://git.example.org/gentoo.git"], options.Official);
        Assert.Equal(keyring, options.Keyring);
        Assert.True(options.RunPostSyncHooks);
        Assert.False(SyncConfiguration.Build(new SyncFlags { ReposConf = conf, NoPostSyncHooks = true }).RunPostSyncHooks);
    }

    [Fact]
    public void Several_coordinators_in_sync_uri_or_flags_are_all_kept_in_order_and_a_mixed_list_is_refused()
    {
        using var dir = new TempDir("ahm-sync-conf");
        var conf = dir.Combine("repos.conf");
        File.WriteAllText(conf, $"""
            [gentoo]
            location = /srv/repos/gentoo
            sync-type = ahm
            sync-uri = https://a.example.org:7470 https://b.example.org:7470
                https://c.example.org:7470
            sync-openpgp-key-path = {Keyring(dir)}
            """);

        var options = SyncConfiguration.Build(new SyncFlags { ReposConf = conf });
        Assert.Equal(["https://a.example.org:7470/", "https://b.example.org:7470/", "https://c.example.org:7470/"], options.Coordinators!.Targets.Select(t => t.ToString()));
        Assert.Equal("https://a.example.org:7470 https://b.example.org:7470 https://c.example.org:7470", options.Coordinator);

        var flags = SyncConfiguration.Build(new SyncFlags { ReposConf = conf, Coordinator = "http://127.0.0.1:7470,http://127.0.0.2:7470" });
        Assert.Equal(2, flags.Coordinators!.Targets.Count);

        var mixed = Assert.Throws<SettingsException>(() => SyncConfiguration.Build(new SyncFlags { ReposConf = conf, Coordinator = "https://a:1 http://b:2" }));
        Assert.StartsWith("coordinator:", mixed.Message, StringComparison.Ordinal);
        var bad = Assert.Throws<SettingsException>(() => SyncConfiguration.Build(new SyncFlags { ReposConf = conf, Coordinator = "https://a:1 rsync://b/x" }));
        Assert.Contains("'rsync://b/x'", bad.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Rsync_options_that_keep_the_tree_are_taken_others_are_refused_naming_the_flag()
    {
        using var dir = new TempDir("ahm-sync-conf");
        var flags = new SyncFlags { Repo = dir.Combine("repo"), ReposConf = dir.Combine("none"), Keyring = Keyring(dir) };

        var options = SyncConfiguration.Build(flags with { RsyncOptions = ["--bwlimit=500", "-4"] });
        Assert.Equal(["--bwlimit=500", "-4"], options.RsyncExtraOptions);

        var refused = Assert.Throws<SettingsException>(() => SyncConfiguration.Build(flags with { RsyncOptions = ["--exclude=/metadata"] }));
        Assert.StartsWith("rsync-opt: '--exclude=/metadata'", refused.Message, StringComparison.Ordinal);
    }
}
