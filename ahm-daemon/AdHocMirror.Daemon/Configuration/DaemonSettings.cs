using System.Globalization;
using System.Net;
using AdHocMirror.Clients;
using AdHocMirror.Contracts.V1;
using AdHocMirror.Hosting;

namespace AdHocMirror.Daemon.Configuration;

/// <summary>
/// Binds <c>key = value</c> settings (from <c>/etc/ahm/daemon.conf</c>, then the command line's flags, which win) to
/// <see cref="DaemonOptions"/>. Every mistake is a <see cref="SettingsException"/> naming the setting.
/// </summary>
public static class DaemonSettings
{
    /// <summary>The settings understood, with their meaning (for --help and for refusing typos).</summary>
    public static IReadOnlyDictionary<string, string> Known { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["coordinator"] = "coordinator URL, http(s)://HOST:PORT; several (coordinators on one database) separated by spaces or commas, each address of a name counted as one [http://127.0.0.1:7470]",
        ["coordinator_trust"] = "PEM file of certificates trusted for the coordinator's TLS",
        ["public_host"] = "host name or address advertised to clients [127.0.0.1]",
        ["listen"] = "address the ping, rsync and git listeners bind [0.0.0.0]",
        ["ping_port"] = $"gRPC ping listener port [{DaemonOptions.DefaultPingPort}]",
        ["rsync_port"] = $"rsync daemon port [{DaemonOptions.DefaultRsyncPort}]",
        ["git_port"] = $"git daemon port [{DaemonOptions.DefaultGitPort}]",
        ["public_ping_port"] = "ping port advertised when forwarded (NAT) [ping_port]",
        ["public_rsync_port"] = "rsync port advertised when forwarded (NAT) [rsync_port]",
        ["public_git_port"] = "git port advertised when forwarded (NAT) [git_port]",
        ["protocols"] = "rsync, git or both [both]",
        ["state_dir"] = "key, status and daemon configuration files [/var/lib/ahm-daemon]",
        ["tree_dir"] = "snapshots and the served git repository [/var/cache/ahm-daemon]",
        ["max_clients"] = "most clients served at once per protocol [16]",
        ["bandwidth_limit"] = "outgoing KiB/s per rsync transfer, 0 = unlimited [0]",
        ["serve_to"] = "clients the coordinator may send here: anywhere, continent, country (where the coordinator places this machine) or a radius in km, e.g. 500 [anywhere]",
        ["upstream"] = "rsync:// and/or git URIs to sync from, or 'coordinator' [rsync://rsync.gentoo.org/gentoo-portage https://anongit.gentoo.org/git/repo/sync/gentoo.git]",
        ["sync_interval"] = "time between upstream syncs, e.g. 30m [30m]",
        ["sync_timeout"] = "longest one sync and verification may take [20m]",
        ["keyring"] = "OpenPGP public keys that sign the tree [/usr/share/openpgp-keys/gentoo-release.asc]",
        ["user"] = "user to switch to when started as root [ahm]",
        ["key_lifetime"] = "drop the key when older than this by our own clock [30d]",
        ["max_backoff"] = "longest wait between attempts to reach the coordinator [5m]",
        ["rsync_program"] = "the rsync binary [rsync]",
        ["git_program"] = "the git binary [git]",
    };

    public const string DefaultUpstream = "rsync://rsync.gentoo.org/gentoo-portage https://anongit.gentoo.org/git/repo/sync/gentoo.git";

    /// <summary>Binds <paramref name="file"/> then <paramref name="overrides"/> (flags) and checks the result.</summary>
    public static DaemonOptions Bind(IReadOnlyDictionary<string, string?> file, IReadOnlyDictionary<string, string?>? overrides = null)
    {
        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var source in (IEnumerable<IReadOnlyDictionary<string, string?>>)[file, overrides ?? new Dictionary<string, string?>()])
        {
            foreach (var (rawKey, value) in source)
            {
                var key = rawKey.Replace('-', '_');
                if (!Known.ContainsKey(key))
                {
                    throw new SettingsException($"unknown setting '{rawKey}' (known: {string.Join(", ", Known.Keys)})");
                }

                if (value is not null)
                {
                    values[key] = value.Trim();
                }
            }
        }

        var options = new DaemonOptions();
        if (values.TryGetValue("coordinator", out var coordinator))
        {
            var words = coordinator.Split([' ', ',', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (words.FirstOrDefault(w => !Uri.TryCreate(w, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.Host.Length == 0) is { } bad)
            {
                throw new SettingsException($"coordinator: '{bad}' is not an http:// or https:// URL");
            }

            if (!ServiceAddresses.TryParse(words, out var coordinators, out var error))
            {
                throw new SettingsException("coordinator: " + error);
            }

            options.Coordinators = coordinators;
        }

        if (values.TryGetValue("coordinator_trust", out var trust) && trust.Length > 0)
        {
            options.CoordinatorTrust = ExistingFile("coordinator_trust", trust);
        }

        if (values.TryGetValue("public_host", out var host))
        {
            if (host.Length == 0 || (Uri.CheckHostName(host.Trim('[', ']')) == UriHostNameType.Unknown))
            {
                throw new SettingsException($"public_host: '{host}' is not a host name or address");
            }

            options.PublicHost = host.Trim('[', ']');
        }

        if (values.TryGetValue("listen", out var listen))
        {
            if (!IPAddress.TryParse(listen.Trim('[', ']'), out _))
            {
                throw new SettingsException($"listen: '{listen}' is not an IP address (e.g. 0.0.0.0, ::, 127.0.0.1)");
            }

            options.ListenAddress = listen.Trim('[', ']');
        }

        options.PingPort = Port(values, "ping_port", options.PingPort, allowZero: false);
        options.RsyncPort = Port(values, "rsync_port", options.RsyncPort, allowZero: false);
        options.GitPort = Port(values, "git_port", options.GitPort, allowZero: false);
        options.PublicPingPort = Port(values, "public_ping_port", 0, allowZero: true);
        options.PublicRsyncPort = Port(values, "public_rsync_port", 0, allowZero: true);
        options.PublicGitPort = Port(values, "public_git_port", 0, allowZero: true);
        if (values.TryGetValue("protocols", out var protocols))
        {
            options.Protocols = ParseProtocols(protocols);
        }

        options.StateDir = AbsoluteDir(values, "state_dir", options.StateDir);
        options.TreeDir = AbsoluteDir(values, "tree_dir", options.TreeDir);
        options.MaxClients = Integer(values, "max_clients", options.MaxClients, 1, 100_000);
        options.BandwidthKibps = Integer(values, "bandwidth_limit", 0, 0, int.MaxValue);
        if (values.TryGetValue("serve_to", out var serveTo))
        {
            options.ServeTo = ParseServeTo(serveTo);
        }

        options.SyncInterval = Duration(values, "sync_interval", options.SyncInterval);
        options.SyncTimeout = Duration(values, "sync_timeout", options.SyncTimeout);
        options.KeyLifetime = Duration(values, "key_lifetime", options.KeyLifetime);
        options.MaxBackoff = Duration(values, "max_backoff", options.MaxBackoff);
        if (options.MaxBackoff < options.MinBackoff)
        {
            options.MinBackoff = options.MaxBackoff;
        }

        if (values.TryGetValue("keyring", out var keyring))
        {
            options.Keyring = ExistingFile("keyring", keyring);
        }

        if (values.TryGetValue("user", out var user))
        {
            if (user.Length == 0 || user.Any(c => char.IsWhiteSpace(c) || c == ':' || c == '/'))
            {
                throw new SettingsException($"user: '{user}' is not a user name");
            }

            if (user is "root" or "0")
            {
                throw new SettingsException("user: the daemon never serves as root; name an unprivileged user (e.g. ahm)");
            }

            options.User = user;
        }

        options.RsyncProgram = values.GetValueOrDefault("rsync_program") is { Length: > 0 } rsync ? rsync : options.RsyncProgram;
        options.GitProgram = values.GetValueOrDefault("git_program") is { Length: > 0 } git ? git : options.GitProgram;
        BindUpstreams(options, values.GetValueOrDefault("upstream") ?? DefaultUpstream);
        if (options.ServesRsync && options.ServesGit && options.RsyncPort == options.GitPort
            || options.PingPort == options.RsyncPort && options.ServesRsync
            || options.PingPort == options.GitPort && options.ServesGit)
        {
            throw new SettingsException("ping_port, rsync_port and git_port must differ");
        }

        return options;
    }

    public static ServedProtocols ParseProtocols(string text)
    {
        var result = ServedProtocols.None;
        foreach (var word in text.Split([',', ' ', '+'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            result |= word.ToLowerInvariant() switch
            {
                "rsync" => ServedProtocols.Rsync,
                "git" => ServedProtocols.Git,
                "both" => ServedProtocols.Both,
                _ => throw new SettingsException($"protocols: '{word}' is not rsync, git or both"),
            };
        }

        return result == ServedProtocols.None ? throw new SettingsException("protocols: name at least one of rsync, git") : result;
    }

    /// <summary>anywhere | continent | country | RADIUS_KM (1–20000, "km" optional).</summary>
    public static ServeTo ParseServeTo(string text)
    {
        var word = text.Trim().ToLowerInvariant();
        if (word.EndsWith("km", StringComparison.Ordinal))
        {
            word = word[..^2].TrimEnd();
        }

        return word switch
        {
            "anywhere" => new ServeTo { Reach = ServeTo.Types.Reach.Anywhere },
            "continent" => new ServeTo { Reach = ServeTo.Types.Reach.Continent },
            "country" => new ServeTo { Reach = ServeTo.Types.Reach.Country },
            _ when uint.TryParse(word, NumberStyles.None, CultureInfo.InvariantCulture, out var km) && km is >= 1 and <= 20_000 =>
                new ServeTo { Reach = ServeTo.Types.Reach.Radius, RadiusKm = km },
            _ => throw new SettingsException($"serve_to: '{text}' is not anywhere, continent, country or a radius in km from 1 to 20000"),
        };
    }

    private static void BindUpstreams(DaemonOptions options, string text)
    {
        var fromCoordinator = false;
        foreach (var word in text.Split([' ', ',', '\t'], StringSplitOptions.RemoveEmptyEntries))
        {
            if (!Upstream.TryParse(word, out var upstream, out var error))
            {
                throw new SettingsException("upstream: " + error);
            }

            switch (upstream.Kind)
            {
                case UpstreamKind.Coordinator:
                    fromCoordinator = true;
                    break;
                case UpstreamKind.Rsync when options.RsyncUpstream is not null:
                case UpstreamKind.Git when options.GitUpstream is not null:
                    throw new SettingsException($"upstream: more than one {upstream.Kind.ToString().ToLowerInvariant()} upstream given");
                case UpstreamKind.Rsync:
                    options.RsyncUpstream = upstream;
                    break;
                default:
                    options.GitUpstream = upstream;
                    break;
            }
        }

        if (fromCoordinator)
        {
            options.RsyncUpstream ??= Upstream.Coordinator;
            options.GitUpstream ??= Upstream.Coordinator;
        }

        if (options.ServesRsync && options.RsyncUpstream is null)
        {
            throw new SettingsException("upstream: rsync is served but no rsync:// upstream (or 'coordinator') is given");
        }

        if (options.ServesGit && options.GitUpstream is null)
        {
            throw new SettingsException("upstream: git is served but no git upstream (or 'coordinator') is given");
        }

        if (!options.ServesRsync)
        {
            options.RsyncUpstream = null;
        }

        if (!options.ServesGit)
        {
            options.GitUpstream = null;
        }
    }

    private static int Port(Dictionary<string, string> values, string key, int fallback, bool allowZero) =>
        values.ContainsKey(key) ? Integer(values, key, fallback, allowZero ? 0 : 1, 65535) : fallback;

    private static int Integer(Dictionary<string, string> values, string key, int fallback, int min, int max)
    {
        if (!values.TryGetValue(key, out var text))
        {
            return fallback;
        }

        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            throw new SettingsException($"{key}: '{text}' is not a whole number from {min} to {max}");
        }

        return value;
    }

    private static TimeSpan Duration(Dictionary<string, string> values, string key, TimeSpan fallback)
    {
        if (!values.TryGetValue(key, out var text))
        {
            return fallback;
        }

        if (!SettingsFile.TryParseDuration(text, out var value) || value <= TimeSpan.Zero)
        {
            throw new SettingsException($"{key}: '{text}' is not a positive duration (e.g. 30m, 12h, 45s)");
        }

        return value;
    }

    private static string AbsoluteDir(Dictionary<string, string> values, string key, string fallback)
    {
        if (!values.TryGetValue(key, out var text))
        {
            return fallback;
        }

        if (!Path.IsPathFullyQualified(text))
        {
            throw new SettingsException($"{key}: '{text}' is not an absolute path");
        }

        if (File.Exists(text))
        {
            throw new SettingsException($"{key}: '{text}' is a file, not a directory");
        }

        return Path.GetFullPath(text);
    }

    private static string ExistingFile(string key, string path)
    {
        if (!File.Exists(path))
        {
            throw new SettingsException($"{key}: file '{path}' does not exist");
        }

        return Path.GetFullPath(path);
    }
}
