using System.Text.Json;
using AdHocMirror.Simulation.Cli;
using AdHocMirror.Testing;

namespace AdHocMirror.Simulation.Tests.Cli;

public sealed class SimulateCommandLineTests
{
    /// <summary>Every field the README documents for <c>--json</c>.</summary>
    public static readonly string[] RunFields =
    [
        "volunteer_share", "volunteers", "syncs", "served_by_volunteers", "served_by_official", "failed", "volunteer_served_share",
        "official_served_share", "fallbacks", "no_volunteer_offered", "official_peak_connections", "official_mean_connections",
        "official_busiest_mirror_peak", "official_refused", "distance_median_km", "distance_p90_km", "offers", "over_limit_offers",
        "stale_offers", "dead_offers", "refused_at_limit", "quarantined", "quarantined_faulty", "volunteer_syncs_from_official",
        "volunteer_syncs_from_volunteers", "volunteer_syncs_up_to_date", "volunteer_syncs_failed", "utilisation_mean", "utilisation_p90",
        "peak_over_limit_ratio", "find_mirror_calls", "find_mirror_peak_per_second", "find_mirror_peak_minute_per_second",
        "find_mirror_mean_per_second", "elapsed_seconds", "official_load_by_hour",
    ];

    public static readonly string[] TopFields = ["settings", "with_volunteers", "official_only", "official_peak_cut", "official_mean_cut", "goal"];

    public static readonly string[] SettingsFields =
    [
        "seed", "clients", "days", "warmup_days", "volunteers", "official_mirrors", "official_max_connections", "official_margin_km",
        "official_far_km", "similar_distance_km", "lease_ttl_seconds", "candidates", "swarm_upstream", "dead", "stale", "malicious",
    ];

    public static readonly string[] GoalFields = ["volunteers_serve90_percent", "median_distance_below_official", "official_peak_cut5x"];

    internal static readonly string[] SmallRun = Small(2000);

    internal static string[] Small(int clients) => ["--clients", clients.ToString(System.Globalization.CultureInfo.InvariantCulture), "--days", "0.5", "--warmup", "2h", "--volunteers", "5%"];

    [Fact]
    public async Task Json_has_every_documented_field()
    {
        var (code, stdout, stderr) = await RunAsync([.. SmallRun, "--json"]);

        Assert.True(code == 0, stderr);
        using var json = JsonDocument.Parse(stdout);
        var root = json.RootElement;
        Assert.Equal(TopFields.Order(), root.EnumerateObject().Select(p => p.Name).Order());
        Assert.Equal(SettingsFields.Order(), root.GetProperty("settings").EnumerateObject().Select(p => p.Name).Order());
        Assert.Equal(GoalFields.Order(), root.GetProperty("goal").EnumerateObject().Select(p => p.Name).Order());
        foreach (var run in (string[])["with_volunteers", "official_only"])
        {
            Assert.Equal(RunFields.Order(), root.GetProperty(run).EnumerateObject().Select(p => p.Name).Order());
            Assert.Equal(24, root.GetProperty(run).GetProperty("official_load_by_hour").GetArrayLength());
        }

        Assert.Equal(0, root.GetProperty("with_volunteers").GetProperty("over_limit_offers").GetInt64());
        Assert.Equal(2000, root.GetProperty("settings").GetProperty("clients").GetInt32());
    }

    [Fact]
    public async Task The_summary_table_compares_with_official_only()
    {
        var (code, stdout, stderr) = await RunAsync(SmallRun);

        Assert.True(code == 0, stderr);
        Assert.Contains("official only", stdout, StringComparison.Ordinal);
        Assert.Contains("served by volunteers", stdout, StringComparison.Ordinal);
        Assert.Contains("goal:", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_sweep_prints_one_row_per_value()
    {
        var (code, stdout, stderr) = await RunAsync([.. SmallRun, "--sweep", "volunteers=1%,4%", "--json"]);

        Assert.True(code == 0, stderr);
        using var json = JsonDocument.Parse(stdout);
        var rows = json.RootElement.EnumerateArray().ToList();
        Assert.Equal(["1%", "4%"], rows.Select(r => r.GetProperty("value").GetString()));
        Assert.Equal([0.01, 0.04], rows.Select(r => r.GetProperty("report").GetProperty("settings").GetProperty("volunteers").GetDouble()));
    }

    [Theory]
    [InlineData("--volunteers", "lots", "--volunteers")]
    [InlineData("--clients", "-5", "--clients")]
    [InlineData("--official-margin-km", "far", "--official-margin-km")]
    [InlineData("--bogus", "1", "--bogus")]
    [InlineData("--sweep", "nonsense=1,2", "--sweep")]
    [InlineData("--sweep", "volunteers=1%,200%", "--sweep volunteers")]
    public async Task A_bad_flag_is_named_and_exits_2(string flag, string value, string named)
    {
        var (code, _, stderr) = await RunAsync([.. SmallRun, flag, value]);

        Assert.Equal(2, code);
        Assert.Contains(named, stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_configuration_file_exits_2()
    {
        var (code, _, stderr) = await RunAsync([.. SmallRun, "--config", "/nonexistent/coordinator.conf"]);

        Assert.Equal(2, code);
        Assert.Contains("/nonexistent/coordinator.conf", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_configuration_file_sets_the_coordinator()
    {
        using var dir = new TempDir();
        var config = Path.Combine(dir.Path, "coordinator.conf");
        await File.WriteAllTextAsync(config, "official_margin_km = 0\nlease_ttl = 2m\n[official]\nfar = rsync://far.invalid/gentoo-portage -45,170\n");

        var (code, stdout, stderr) = await RunAsync([.. SmallRun, "--config", config, "--json"]);

        Assert.True(code == 0, stderr);
        using var json = JsonDocument.Parse(stdout);
        var settings = json.RootElement.GetProperty("settings");
        Assert.Equal(0, settings.GetProperty("official_margin_km").GetDouble());
        Assert.Equal(120, settings.GetProperty("lease_ttl_seconds").GetDouble());
        Assert.Equal(1, settings.GetProperty("official_mirrors").GetInt32());
    }

    [Fact]
    public async Task Help_lists_the_flags_and_exits_0()
    {
        var (code, stdout, _) = await RunAsync(["--help"]);

        Assert.Equal(0, code);
        Assert.Contains("--sweep", stdout, StringComparison.Ordinal);
        Assert.Contains("--official-margin-km", stdout, StringComparison.Ordinal);
        Assert.Contains("Exit codes", stdout, StringComparison.Ordinal);
    }

    internal static async Task<(int Code, string Stdout, string Stderr)> RunAsync(string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await SimulateCommandLine.InvokeAsync(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }
}
