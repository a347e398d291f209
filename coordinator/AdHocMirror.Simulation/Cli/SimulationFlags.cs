using System.Globalization;
using AdHocMirror.Coordinator.Cli;
using AdHocMirror.Hosting;
using AdHocMirror.Simulation.Engine;

namespace AdHocMirror.Simulation.Cli;

/// <summary>
/// Every number of a run as a flag: <c>--name VALUE</c>, and <c>--sweep name=V1,V2,…</c> with the same names. Shares
/// take "2%" or "0.02"; durations "30m", "7d"; ranges "2-16". Coordinator settings (the serve flags) override the
/// configuration file's.
/// </summary>
public static class SimulationFlags
{
    public sealed record Flag(string Name, string Description, Action<SimulationOptions, string, string> Apply);

    public static IReadOnlyList<Flag> All { get; } =
    [
        new("clients", "Clients, each syncing once a day [default: 200000]", (o, v, w) => o.Clients = Count(v, w, 1)),
        new("days", "Simulated days [default: 7]", (o, v, w) => o.Duration = TimeSpan.FromDays(Number(v, w, 0.01, 365))),
        new("warmup", "Time at the start that is not counted [default: 1d]", (o, v, w) => o.Warmup = Duration(v, w, allowZero: true)),
        new("seed", "Random seed; a seed gives the same figures [default: 1]", (o, v, w) => o.Seed = Count(v, w, 0)),
        new("volunteers", "Volunteers as a share of clients [default: 2%]", (o, v, w) => o.Volunteers = Share(v, w)),
        new("volunteer-max-clients", "Range of volunteers' max_clients [default: 2-16]", (o, v, w) => (o.VolunteerMinClients, o.VolunteerMaxClients) = IntRange(v, w)),
        new("volunteer-uplink-mbps", "Range of volunteers' uplinks, log-uniform, Mbit/s [default: 10-100]", (o, v, w) => (o.VolunteerUplinkMinMbps, o.VolunteerUplinkMaxMbps) = Range(v, w)),
        new("volunteer-online", "Share of the day a volunteer's machine is on (around its local evening) [default: 50%]", (o, v, w) => o.VolunteerOnline = Share(v, w)),
        new("volunteer-presence", "Chance a volunteer's machine comes on on a given day [default: 90%]", (o, v, w) => o.VolunteerPresence = Share(v, w)),
        new("volunteer-churn", "Share of volunteers leaving for good each day, replaced by newcomers [default: 2%]", (o, v, w) => o.VolunteerChurn = Share(v, w)),
        new("swarm-upstream", "Share of volunteers whose daemon has upstream = coordinator [default: 75%]", (o, v, w) => o.SwarmUpstream = Share(v, w)),
        new("volunteer-sync-interval", "The daemons' sync_interval [default: 30m]", (o, v, w) => o.VolunteerSyncInterval = Duration(v, w)),
        new("dead", "Share of volunteers that die without logging out at the end of each online window [default: 1%]", (o, v, w) => o.Dead = Share(v, w)),
        new("stale", "Share of volunteers advertising new versions while serving an old tree [default: 0.5%]", (o, v, w) => o.Stale = Share(v, w)),
        new("malicious", "Share of volunteers serving tampered files [default: 0.5%]", (o, v, w) => o.Malicious = Share(v, w)),
        new("probe", "Share of clients probing round trips of their first candidates [default: 30%]", (o, v, w) => o.Probe = Share(v, w)),
        new("client-candidates", "Candidates clients ask for (0: the coordinator's default) [default: 0]", (o, v, w) => o.Candidates = (uint)Count(v, w, 0)),
        new("client-diurnal", "How strongly clients' sync times follow their local day, 0-1 [default: 0.5]", (o, v, w) => o.ClientDiurnal = Number(v, w, 0, 1)),
        new("client-downlink-mbps", "Clients' downlink, Mbit/s [default: 50]", (o, v, w) => o.ClientDownlinkMbps = Number(v, w, 0.01, 1e6)),
        new("official-max-connections", "Connection limit of each official mirror [default: 30]", (o, v, w) => o.OfficialMaxConnections = Count(v, w, 1)),
        new("official-uplink-mbps", "Each official mirror's uplink, Mbit/s [default: 1000]", (o, v, w) => o.OfficialUplinkMbps = Number(v, w, 0.01, 1e7)),
        new("upstream-interval", "How often the upstream tree gets a new version [default: 30m]", (o, v, w) => o.UpstreamInterval = Duration(v, w)),
        new("tree-mb", "A whole-tree transfer, MB [default: 400]", (o, v, w) => o.TreeMb = Number(v, w, 0, 1e6)),
        new("change-mb-per-day", "Transfer per day a tree is behind, MB [default: 30]", (o, v, w) => o.ChangeMbPerDay = Number(v, w, 0, 1e6)),
        new("file-list-mb", "rsync's file list, sent on every sync, MB [default: 3]", (o, v, w) => o.FileListMb = Number(v, w, 0, 1e6)),
        new("setup-seconds", "Fixed time of every sync (tree walks, verification), s [default: 20]", (o, v, w) => o.SetupSeconds = Number(v, w, 0, 86400)),
        new("connect-timeout", "Time lost on a mirror that does not answer, s [default: 15]", (o, v, w) => o.ConnectTimeoutSeconds = Number(v, w, 0, 3600)),
        Coordinator("lease-ttl", "lease_ttl"),
        Coordinator("candidates", "candidates"),
        Coordinator("similar-distance-km", "similar_distance_km"),
        Coordinator("official-margin-km", "official_margin_km"),
        Coordinator("official-far-km", "official_far_km"),
        Coordinator("quarantine-reports", "quarantine_reports"),
        Coordinator("report-window", "report_window"),
        Coordinator("ping-interval", "ping_interval"),
        Coordinator("ping-failures", "ping_failures"),
    ];

    public static Flag? Find(string name) => All.FirstOrDefault(f => string.Equals(f.Name, name, StringComparison.Ordinal));

    private static Flag Coordinator(string name, string setting) =>
        new(name, $"The coordinator's {setting} (overrides --config)", (o, v, w) => CoordinatorSettings.Apply(o.Coordinator, setting, v, w));

    private static int Count(string value, string where, int min) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min
            ? n
            : throw new SettingsException($"{where}: '{value}' is not a whole number ≥ {min}");

    private static double Number(string value, string where, double min, double max) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var x) && x >= min && x <= max
            ? x
            : throw new SettingsException($"{where}: '{value}' is not a number from {min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)}");

    /// <summary>"2%" or "0.02".</summary>
    public static double Share(string value, string where)
    {
        var text = value.Trim();
        var percent = text.EndsWith('%');
        if (double.TryParse(percent ? text[..^1] : text, NumberStyles.Float, CultureInfo.InvariantCulture, out var x))
        {
            x = percent ? x / 100 : x;
            if (x is >= 0 and <= 1)
            {
                return x;
            }
        }

        throw new SettingsException($"{where}: '{value}' is not a share (e.g. 2% or 0.02, from 0 to 100%)");
    }

    private static TimeSpan Duration(string value, string where, bool allowZero = false)
    {
        if (allowZero && value.Trim() is "0" or "0s")
        {
            return TimeSpan.Zero;
        }

        return SettingsFile.TryParseDuration(value, out var d) && d > TimeSpan.Zero
            ? d
            : throw new SettingsException($"{where}: '{value}' is not a duration (e.g. 30m, 1d)");
    }

    private static (double Low, double High) Range(string value, string where)
    {
        var parts = value.Split('-', 2, StringSplitOptions.TrimEntries);
        var low = Number(parts[0], where, 0.001, 1e7);
        var high = parts.Length == 2 ? Number(parts[1], where, 0.001, 1e7) : low;
        return low <= high ? (low, high) : throw new SettingsException($"{where}: '{value}': the lower bound is above the upper one");
    }

    private static (int Low, int High) IntRange(string value, string where)
    {
        var parts = value.Split('-', 2, StringSplitOptions.TrimEntries);
        var low = Count(parts[0], where, 1);
        var high = parts.Length == 2 ? Count(parts[1], where, 1) : low;
        return low <= high ? (low, high) : throw new SettingsException($"{where}: '{value}': the lower bound is above the upper one");
    }
}
