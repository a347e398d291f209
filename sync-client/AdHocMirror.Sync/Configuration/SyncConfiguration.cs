using System.Globalization;
using AdHocMirror.Clients;
using AdHocMirror.Contracts.V1;
using AdHocMirror.Hosting;

namespace AdHocMirror.Sync.Configuration;

/// <summary>
/// Merges, lowest first: built-in defaults, the repository's repos.conf entry, the settings file (<c>--config</c>), flags.
/// Any bad value is a <see cref="SettingsException"/> naming the setting.
/// </summary>
public static class SyncConfiguration
{
    public static SyncOptions Build(SyncFlags flags)
    {
        var file = flags.Config is { } path ? SettingsFile.Read(path) : new Dictionary<string, string?>();
        string? Setting(string? flag, string key) => flag ?? (file.TryGetValue(key, out var v) && !string.IsNullOrWhiteSpace(v) ? v : null);

        var options = new SyncOptions();
        var repo = Setting(flags.Repo, "repo");
        if (repo is not null)
        {
            options.Repository = Path.GetFullPath(repo);
        }

        var reposConf = Setting(flags.ReposConf, "repos_conf") ?? SyncOptions.DefaultReposConf;
        ReposConfEntry? entry;
        try
        {
            var entries = ReposConf.Read(reposConf);
            entry = ReposConf.Find(entries, options.Repository, repo is not null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SettingsException($"repos.conf: cannot read {reposConf}: {e.Message}");
        }

        if (entry is not null)
        {
            options.RepositoryName = entry.Name;
            if (repo is null && entry.Location is { } location)
            {
                options.Repository = Path.GetFullPath(location);
            }
        }
        else if (ReadRepoName(options.Repository) is { } name)
        {
            options.RepositoryName = name;
        }

        // sync-type = ahm: the entry was switched to the swarm (portage's ahm module); its sync-uri is the coordinator and
        // its sync-ahm-* keys are this program's settings, below the settings file and flags.
        var ahm = entry is { IsAhm: true } ? entry : null;
        var protocol = Setting(flags.Protocol, "protocol") ?? ahm?.Get("sync-ahm-protocol");
        options.Protocol = protocol switch
        {
            null => entry?.SyncType == "git" || Directory.Exists(Path.Combine(options.Repository, ".git")) ? Protocol.Git : Protocol.Rsync,
            "rsync" => Protocol.Rsync,
            "git" => Protocol.Git,
            _ => throw new SettingsException($"protocol: '{protocol}' is neither rsync nor git"),
        };

        // Several coordinators (one database behind them) may be listed, separated by spaces or commas.
        if ((flags.NoCoordinator ? null : Setting(flags.Coordinator, "coordinator") ?? ahm?.SyncUri) is { } coordinators)
        {
            var words = coordinators.Split([' ', ',', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries);
            if (words.FirstOrDefault(w => !IsHttpAddress(w)) is { } url)
            {
                throw new SettingsException($"coordinator: '{url}' is not a URL like https://HOST:PORT or http://HOST:PORT");
            }

            options.Coordinators = ServiceAddresses.TryParse(words, out var addresses, out var error)
                ? addresses
                : throw new SettingsException("coordinator: " + error);
        }

        options.CoordinatorTrust = Setting(flags.CoordinatorTrust, "coordinator_trust") ?? ahm?.Get("sync-ahm-coordinator-trust");
        if (options.CoordinatorTrust is { } trust && !File.Exists(trust))
        {
            throw new SettingsException($"coordinator-trust: certificate file '{trust}' does not exist");
        }

        var official = flags.Official.Count > 0 ? flags.Official
            : (Setting(null, "official") ?? ahm?.Get("sync-ahm-official")) is { } listed ? listed.Split([',', ' ', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : [];
        options.Official.AddRange(official);
        if (options.Official.Count == 0 && ahm is null && entry?.SyncUri is { } syncUri && UriMatches(syncUri, options.Protocol))
        {
            options.Official.Add(syncUri);
        }

        if (options.Official.Count == 0)
        {
            options.Official.Add(SyncOptions.DefaultOfficial(options.Protocol));
        }

        foreach (var uri in options.Official)
        {
            if (!UriMatches(uri, options.Protocol))
            {
                throw new SettingsException($"official: '{uri}' is not a {(options.Protocol == Protocol.Git ? "git" : "rsync")} URI");
            }
        }

        options.Keyring = Setting(flags.Keyring, "keyring") ?? entry?.Get("sync-openpgp-key-path") ?? SyncOptions.DefaultKeyring;
        if (!File.Exists(options.Keyring))
        {
            throw new SettingsException($"keyring: OpenPGP key file '{options.Keyring}' does not exist (install app-crypt/openpgp-keys-gentoo-release, or pass --keyring FILE)");
        }

        options.Candidates = flags.Candidates ?? (Setting(null, "candidates") is { } c ? ParseUInt(c, "candidates") : 0);
        options.ProbeCount = flags.Probe ?? (Setting(null, "probe") is { } p ? (int)ParseUInt(p, "probe") : options.ProbeCount);
        if (Setting(flags.Near, "near") is { } near)
        {
            options.Near = ParseNear(near);
        }

        options.ConnectTimeout = Duration(Setting(flags.ConnectTimeout, "connect_timeout"), "connect-timeout", options.ConnectTimeout);
        options.TransferTimeout = Duration(Setting(flags.TransferTimeout, "transfer_timeout"), "transfer-timeout", options.TransferTimeout);
        options.CoordinatorTimeout = Duration(Setting(flags.CoordinatorTimeout, "coordinator_timeout"), "coordinator-timeout", options.CoordinatorTimeout);
        options.IoTimeout = Duration(Setting(null, "io_timeout"), "io-timeout", options.IoTimeout);
        options.PostSyncDirectory = Setting(flags.PostSyncDir, "postsync_dir") ?? SyncOptions.DefaultPostSyncDirectory;
        options.RunPostSyncHooks = !flags.NoPostSyncHooks;
        options.HashWhileReceiving = !flags.HashAfterTransfer;
        foreach (var option in flags.RsyncOptions)
        {
            if (!SyncOptions.RsyncOptionsKept.Any(kept => kept.EndsWith('=') ? option.StartsWith(kept, StringComparison.Ordinal) && option.Length > kept.Length : option == kept))
            {
                throw new SettingsException($"rsync-opt: '{option}' is not one of {string.Join(", ", SyncOptions.RsyncOptionsKept.Select(k => k.EndsWith('=') ? k + "…" : k))} (options that change which files arrive would only fail verification)");
            }

            options.RsyncExtraOptions.Add(option);
        }
        options.Json = flags.Json;
        options.Quiet = flags.Quiet;
        return options;
    }

    /// <summary><c>DE</c> (country code) or <c>LAT,LON</c>.</summary>
    public static LocationHint ParseNear(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        if (parts.Length == 2
            && double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var lat) && lat is >= -90 and <= 90
            && double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var lon) && lon is >= -180 and <= 180)
        {
            return new LocationHint { Point = new GeoPoint { Latitude = lat, Longitude = lon } };
        }

        if (text.Length == 2 && text.All(char.IsAsciiLetter))
        {
            return new LocationHint { CountryCode = text.ToUpperInvariant() };
        }

        throw new SettingsException($"near: '{text}' is neither a country code (DE) nor LAT,LON (48.14,11.58)");
    }

    /// <summary>The first line of profiles/repo_name when it is a valid repository name (PMS: [A-Za-z0-9_][A-Za-z0-9+_-]*).</summary>
    private static string? ReadRepoName(string repository)
    {
        var path = Path.Combine(repository, "profiles", "repo_name");
        if (!File.Exists(path))
        {
            return null;
        }

        using var reader = new StreamReader(path);
        var line = reader.ReadLine()?.Trim();
        return line is { Length: > 0 and <= 64 } && (char.IsAsciiLetterOrDigit(line[0]) || line[0] == '_') && line.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '+')
            ? line : null;
    }

    private static bool IsHttpAddress(string url) =>
        Uri.TryCreate(url.Contains("://", StringComparison.Ordinal) ? url : "http://" + url, UriKind.Absolute, out var uri)
        && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);

    private static bool UriMatches(string uri, Protocol protocol) => protocol == Protocol.Git
        ? uri.StartsWith("git://", StringComparison.Ordinal) || uri.StartsWith("https://", StringComparison.Ordinal) || uri.StartsWith("http://", StringComparison.Ordinal) || uri.StartsWith("ssh://", StringComparison.Ordinal) || uri.StartsWith('/')
        : uri.StartsWith("rsync://", StringComparison.Ordinal) || uri.StartsWith('/');

    private static uint ParseUInt(string text, string name) =>
        uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : throw new SettingsException($"{name}: '{text}' is not a whole number");

    private static TimeSpan Duration(string? text, string name, TimeSpan fallback)
    {
        if (text is null)
        {
            return fallback;
        }

        return SettingsFile.TryParseDuration(text, out var duration) && duration > TimeSpan.Zero
            ? duration
            : throw new SettingsException($"{name}: '{text}' is not a duration (e.g. 30s, 5m)");
    }
}
