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
}
