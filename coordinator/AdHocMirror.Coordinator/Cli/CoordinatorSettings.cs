using System.Globalization;
using AdHocMirror.Coordinator.Hosting;
using AdHocMirror.Coordinator.Sessions;
using AdHocMirror.Hosting;

namespace AdHocMirror.Coordinator.Cli;

/// <summary>Reads <see cref="CoordinatorOptions"/> from a settings file; the keys are the serve flags with '_' for '-'.</summary>
public static class CoordinatorSettings
{
    public static CoordinatorOptions Load(string? path)
    {
        var options = new CoordinatorOptions();
        if (path is null)
        {
            return options;
        }

        foreach (var (key, value) in SettingsFile.Read(path))
        {
            var name = key.ToLowerInvariant();
            if (!Apply(options, name, value, $"{path}: {name}"))
            {
                throw new SettingsException($"{path}: unknown setting '{key}'");
            }
        }

        return options;
    }

    /// <summary>Applies one setting (from the file or a flag); false when the name is unknown.</summary>
    public static bool Apply(CoordinatorOptions options, string name, string? value, string where)
    {
        // [overrides] CIDR = LAT,LON [place]   and   [official] NAME = URI [LAT,LON]
        if (name.StartsWith("overrides:", StringComparison.Ordinal))
        {
            AddOverride(options, $"{name["overrides:".Length..]} = {value}");
            return true;
        }

        if (name.StartsWith("official:", StringComparison.Ordinal))
        {
            AddOfficial(options, $"{name["official:".Length..]} {value}");
            return true;
        }

        switch (name)
        {
            case "listen": options.Listen = value ?? options.Listen; break;
            case "admin_listen": options.AdminListen = value ?? options.AdminListen; break;
            case "metrics_listen": options.MetricsListen = value ?? "off"; break;
            case "data_dir": options.DataDir = value ?? options.DataDir; break;
            case "database": options.Database = value; break;
            case "store": options.Store = value; break;
            case "store_password_file": options.StorePasswordFile = value; break;
            case "heartbeat_interval": options.Cluster.HeartbeatInterval = Duration(value, where); break;
            case "coordinator_timeout": options.Cluster.DeadAfter = Duration(value, where); break;
            case "change_poll_interval": options.Cluster.ChangePollInterval = Duration(value, where); break;
            case "advertise": options.Cluster.Advertise = value; break;
            case "geoip": options.GeoIp = value; break;
            case "tls_cert": options.TlsCert = value; break;
            case "tls_key": options.TlsKey = value; break;
            case "key_lifetime": options.Keys.Lifetime = Duration(value, where); break;
            case "key_idle_limit": options.Keys.IdleLimit = Duration(value, where); break;
            case "key_cool_off": options.Keys.CoolOff = Duration(value, where); break;
            case "housekeeping_interval": options.Keys.HousekeepingInterval = Duration(value, where); break;
            case "registrations_per_hour": options.Keys.RegistrationsPerNetworkPerHour = Count(value, where); break;
            case "max_mirrors_per_address": options.Keys.MaxMirrorsPerAddress = Count(value, where); break;
            case "ping_interval": options.Pings.Interval = Duration(value, where); break;
            case "ping_timeout": options.Pings.Timeout = Duration(value, where); break;
            case "ping_failures": options.Pings.FailuresToOffline = Count(value, where); break;
            case "ping_concurrency": options.Pings.MaxConcurrency = Count(value, where); break;
            case "ping_address": options.Sessions.PingAddressPolicy = Policy(value, where); break;
            case "lease_ttl": options.Matching.LeaseTtl = Duration(value, where); break;
            case "candidates": options.Matching.DefaultCount = Count(value, where); break;
            case "similar_distance_km": options.Matching.SimilarDistanceKm = Kilometres(value, where); break;
            case "official_margin_km": options.Matching.OfficialMarginKm = Kilometres(value, where); break;
            case "official_far_km": options.Matching.OfficialFarKm = Kilometres(value, where); break;
            case "quarantine_reports": options.Matching.QuarantineReports = Count(value, where); break;
            case "report_window": options.Matching.ReportWindow = Duration(value, where); break;
            case "reveal_budget": options.Privacy.RevealBudget = CountOrOff(value, where, Matching.Privacy.RevealBudget.MaxBudget); break;
            case "reveal_window": options.Privacy.RevealWindow = Duration(value, where); break;
            case "privacy_networks": options.Privacy.MaxNetworks = Count(value, where); break;
            case "findmirror_per_minute": options.Privacy.FindMirrorPerMinute = CountOrOff(value, where, int.MaxValue); break;
            case "hint_max_km": options.Geo.HintMaxKm = Kilometres(value, where); break;
            default: return false;
        }

        return true;
    }

    /// <summary>Adds a CIDR → place override, <c>CIDR = LAT,LON [place]</c> (checked now, not at first use).</summary>
    public static void AddOverride(CoordinatorOptions options, string spec)
    {
        Geo.LocationOverrides.Parse(spec);
        options.Geo.Overrides.Add(spec);
    }

    /// <summary>Adds an official mirror, <c>NAME URI [LAT,LON]</c>; the first one given replaces the built-in list.</summary>
    public static void AddOfficial(CoordinatorOptions options, string spec)
    {
        var mirror = Matching.OfficialMirrorOptions.Parse(spec);
        if (!options.OfficialConfigured)
        {
            options.Matching.Official.Clear();
            options.OfficialConfigured = true;
        }

        options.Matching.Official.Add(mirror);
    }

    private static double Kilometres(string? value, string where) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var km) && km >= 0 && double.IsFinite(km)
            ? km
            : throw new SettingsException($"{where}: '{value}' is not a distance in km");

    private static TimeSpan Duration(string? value, string where) =>
        SettingsFile.TryParseDuration(value, out var duration) && duration > TimeSpan.Zero
            ? duration
            : throw new SettingsException($"{where}: '{value}' is not a duration (e.g. 30d, 12h, 60s)");

    private static int Count(string? value, string where) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var count) && count > 0
            ? count
            : throw new SettingsException($"{where}: '{value}' is not a positive whole number");

    /// <summary>A positive whole number, or 0 / "off" for no limit at all.</summary>
    private static int CountOrOff(string? value, string where, int max) =>
        value?.Trim().ToLowerInvariant() is "off" or "0" ? 0
        : int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var count) && count > 0 && count <= max ? count
        : throw new SettingsException($"{where}: '{value}' is not 'off' or a whole number from 1 to {max}");

    private static PingAddressPolicy Policy(string? value, string where) => value?.Trim().ToLowerInvariant() switch
    {
        "caller" => PingAddressPolicy.SameAsCaller,
        "any" => PingAddressPolicy.Any,
        _ => throw new SettingsException($"{where}: '{value}' is not a ping address policy (caller or any)"),
    };
}
