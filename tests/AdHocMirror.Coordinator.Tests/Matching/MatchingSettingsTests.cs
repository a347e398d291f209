using AdHocMirror.Contracts.V1;
using AdHocMirror.Coordinator.Cli;
using AdHocMirror.Coordinator.Geo;
using AdHocMirror.GeoIP.Reloading;
using AdHocMirror.Hosting;
using AdHocMirror.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace AdHocMirror.Coordinator.Tests.Matching;

public sealed class MatchingSettingsTests
{
    [Fact]
    public void SettingsFileSectionsConfigureOverridesAndOfficialMirrors()
    {
        using var dir = new TempDir();
        var file = dir.Combine("coordinator.conf");
        File.WriteAllText(file, """
            lease_ttl = 2m
            official_margin_km = 50
            [overrides]
            127.0.0.2/32 = 52.52,13.40 Berlin, DE
            2001:db8::/48 = 48.86,2.35 Paris, FR
            [official]
            rsync-eu = rsync://rsync.example.org/gentoo-portage 50.1,8.7
            git-main = https://git.example.org/gentoo.git
            """);

        var options = CoordinatorSettings.Load(file);

        Assert.Equal(TimeSpan.FromMinutes(2), options.Matching.LeaseTtl);
        Assert.Equal(50, options.Matching.OfficialMarginKm);
        var overrides = new LocationOverrides(options.Geo.Overrides);
        Assert.True(overrides.TryLocate(System.Net.IPAddress.Parse("127.0.0.2"), out var berlin));
        Assert.Equal("Berlin, DE", berlin.Place);
        Assert.True(overrides.TryLocate(System.Net.IPAddress.Parse("2001:db8::7"), out var paris));
        Assert.Equal(48.86, paris.Latitude);
        Assert.Equal(2, options.Matching.Official.Count);
        Assert.Equal(Protocol.Rsync, options.Matching.Official[0].Protocol);
        Assert.Equal(50.1, options.Matching.Official[0].Latitude);
        Assert.Equal(Protocol.Git, options.Matching.Official[1].Protocol);
        Assert.Null(options.Matching.Official[1].Latitude);
    }

    [Fact]
    public void PrivacySettingsAreRead()
    {
        using var dir = new TempDir();
        var file = dir.Combine("coordinator.conf");
        File.WriteAllText(file, "reveal_budget = 4\nreveal_window = 30m\nfindmirror_per_minute = off\nprivacy_networks = 5000\nhint_max_km = 100\n");

        var options = CoordinatorSettings.Load(file);

        Assert.Equal(4, options.Privacy.RevealBudget);
        Assert.Equal(TimeSpan.FromMinutes(30), options.Privacy.RevealWindow);
        Assert.Equal(0, options.Privacy.FindMirrorPerMinute);
        Assert.Equal(5000, options.Privacy.MaxNetworks);
        Assert.Equal(100, options.Geo.HintMaxKm);

        // The defaults are the private ones.
        var defaults = new AdHocMirror.Coordinator.Hosting.CoordinatorOptions();
        Assert.Equal(8, defaults.Privacy.RevealBudget);
        Assert.Equal(20, defaults.Privacy.FindMirrorPerMinute);
    }

    [Theory]
    [InlineData("reveal_budget = 65")]
    [InlineData("reveal_budget = many")]
    [InlineData("findmirror_per_minute = -1")]
    [InlineData("hint_max_km = far")]
    [InlineData("[overrides]\n127.0.0.2/33 = 1,2")]
    [InlineData("[overrides]\n127.0.0.2/32 = 91,2")]
    [InlineData("[overrides]\n127.0.0.2/32 = north")]
    [InlineData("[official]\nx = not-a-uri")]
    [InlineData("[official]\nx = rsync://a/b 1000,3")]
    [InlineData("official_far_km = far")]
    public void BadSettingsNameWhatIsWrong(string text)
    {
        using var dir = new TempDir();
        var file = dir.Combine("coordinator.conf");
        File.WriteAllText(file, text);
        var error = Assert.Throws<SettingsException>(() => CoordinatorSettings.Load(file));
        Assert.False(string.IsNullOrWhiteSpace(error.Message));
    }

    [Fact]
    public async Task ServeRefusesABadOverrideFlagWithUsageExit()
    {
        using var dir = new TempDir();
        var code = await CoordinatorCommandLine.InvokeAsync(["serve", "--data-dir", dir.Path, "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0", "--metrics-listen", "off", "--location-override", "10.0.0.0/8 = nowhere"]);
        Assert.Equal(ExitCodes.Usage, code);
    }

    [ConformanceFact]
    public void GeoIpPlacesAddressesAndOverridesWin()
    {
        var path = Path.Combine(Conformance.Directory!, "maxmind", "GeoIP2-City-Test.mmdb");
        using var database = CityDatabaseSource.Open(new CityDatabaseSourceOptions { Path = path, WatchDirectory = false }, NullLogger<CityDatabaseSource>.Instance);
        var locator = new Locator(new LocationOverrides(["81.2.69.160/27 = 48.14,11.58 Munich lab, DE"]), database);

        var (london, source) = locator.LocateClient(System.Net.IPAddress.Parse("81.2.69.142"), null);
        Assert.Equal("geoip", source);
        Assert.Equal(51.5142, london!.Value.Latitude, 4);
        Assert.Equal("London, GB", london.Value.Place);

        var (lab, labSource) = locator.LocateClient(System.Net.IPAddress.Parse("81.2.69.170"), null);
        Assert.Equal("override", labSource);
        Assert.Equal("Munich lab, DE", lab!.Value.Place);

        var mirror = locator.Locate(System.Net.IPAddress.Parse("81.2.69.142"));
        Assert.Equal("London, GB", mirror!.Place);

        var (hinted, hintSource) = locator.LocateClient(System.Net.IPAddress.Parse("10.1.2.3"), new LocationHint { CountryCode = "se" });
        Assert.Equal("hint", hintSource);
        Assert.Equal("SE", hinted!.Value.Place);
        Assert.Equal((null, "none"), locator.LocateClient(System.Net.IPAddress.Parse("10.1.2.3"), null));
    }
}
