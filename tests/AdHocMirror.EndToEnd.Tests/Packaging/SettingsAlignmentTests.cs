using System.Text.RegularExpressions;
using AdHocMirror.Coordinator.Cli;
using AdHocMirror.Coordinator.Hosting;
using AdHocMirror.Daemon.Configuration;
using AdHocMirror.Hosting;

namespace AdHocMirror.EndToEnd.Tests.Packaging;

/// <summary>
/// The packaging speaks the programs' own language: every setting the default daemon.conf documents, and every flag
/// the init scripts and systemd units pass, is one the programs' real settings binders accept.
/// </summary>
public sealed partial class SettingsAlignmentTests
{
    [Fact]
    public void DefaultDaemonConf_EveryDocumentedSettingIsKnown_AndItsExampleValuesBind()
    {
        var lines = File.ReadAllLines(PackagingTree.At("daemon.conf.example"));
        var documented = lines.Select(line => Setting().Match(line)).Where(m => m.Success).ToList();
        Assert.NotEmpty(documented);
        Assert.All(documented, m => Assert.True(DaemonSettings.Known.ContainsKey(m.Groups[1].Value), $"daemon.conf.example documents unknown setting '{m.Groups[1].Value}'"));

        // Every setting the daemon knows is documented.
        var names = documented.Select(m => m.Groups[1].Value).ToHashSet(StringComparer.OrdinalIgnoreCase);
        Assert.All(DaemonSettings.Known.Keys, key => Assert.True(names.Contains(key), $"daemon.conf.example does not document '{key}'"));

        // As installed (all commented out) it binds to the defaults.
        DaemonSettings.Bind(SettingsFile.Parse(lines, "daemon.conf.example"));

        // With every example uncommented it still binds (file settings that need an existing file are left out).
        var uncommented = documented
            .Where(m => m.Groups[1].Value is not ("keyring" or "coordinator_trust"))
            .Select(m => m.Result("$0$'").TrimStart('#', ' '));
        var options = DaemonSettings.Bind(SettingsFile.Parse(uncommented, "daemon.conf.example (uncommented)"));
        Assert.Equal(new Uri("https://ahm.example.org:7470"), options.Coordinator);
    }

    [Fact]
    public void DaemonInitScript_PassesOnlyFlagsTheDaemonKnows()
    {
        var flags = Flags(File.ReadAllText(PackagingTree.At("init.d", "ahm-daemon")));
        Assert.Contains("--config", flags);
        Assert.Contains("--state-dir", flags);
        Assert.Contains("--max-clients", flags);
        Assert.All(flags.Where(f => f != "--config"), flag => Assert.True(DaemonSettings.Known.ContainsKey(flag[2..].Replace('-', '_')), $"init.d/ahm-daemon passes unknown flag {flag}"));
    }

    [Fact]
    public void CoordinatorInitScript_PassesOnlyServeFlags()
    {
        var flags = Flags(File.ReadAllText(PackagingTree.At("init.d", "ahm-coordinator")).Split("status_detail()")[0]);
        Assert.Contains("--listen", flags);
        Assert.Contains("--admin-listen", flags);
        Assert.Contains("--data-dir", flags);
        Assert.Contains("--geoip", flags);
        Assert.Contains("--tls-cert", flags);
        Assert.Contains("--tls-key", flags);
        Assert.All(flags.Where(f => f != "--config"), flag => Assert.True(CoordinatorSettings.Apply(new CoordinatorOptions(), flag[2..].Replace('-', '_'), "x", flag), $"init.d/ahm-coordinator passes unknown flag {flag}"));
    }

    [Theory]
    [InlineData("ahm-daemon.service")]
    [InlineData("ahm-coordinator.service")]
    public void SystemdUnits_RunAsTheirUserWithHardening_AndPassKnownFlags(string unit)
    {
        var text = File.ReadAllText(PackagingTree.At("systemd", unit));
        var user = unit == "ahm-daemon.service" ? "ahm" : "ahm-coordinator";
        Assert.Contains($"User={user}\n", text, StringComparison.Ordinal);
        foreach (var line in (string[])["NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateTmp=yes", "ReadWritePaths=/var/lib/" + (user == "ahm" ? "ahm-daemon" : "ahm-coordinator"), "RestrictAddressFamilies="])
        {
            Assert.Contains(line, text, StringComparison.Ordinal);
        }

        var exec = text.Split('\n').Single(l => l.StartsWith("ExecStart=", StringComparison.Ordinal));
        foreach (var flag in Flags(exec).Where(f => f != "--config"))
        {
            var known = user == "ahm"
                ? DaemonSettings.Known.ContainsKey(flag[2..].Replace('-', '_'))
                : CoordinatorSettings.Apply(new CoordinatorOptions(), flag[2..].Replace('-', '_'), "x", flag);
            Assert.True(known, $"{unit} passes unknown flag {flag}");
        }
    }

    private static List<string> Flags(string text) =>
        FlagPattern().Matches(text).Select(m => m.Groups[1].Value).Distinct().ToList();

    [GeneratedRegex(@"^#?\s*([a-z_]+)\s*=", RegexOptions.None)]
    private static partial Regex Setting();

    [GeneratedRegex(@"(?<![\w-])(--[a-z][a-z-]+)")]
    private static partial Regex FlagPattern();
}
