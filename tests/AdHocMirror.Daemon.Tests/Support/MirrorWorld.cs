using MirrorInfo = AdHocMirror.Contracts.V1.MirrorInfo;
using AdHocMirror.Daemon.Configuration;
using AdHocMirror.Daemon.Hosting;
using AdHocMirror.Daemon.Serving;
using MirrorState = AdHocMirror.Daemon.Status.MirrorState;
using AdHocMirror.Testing;
using AdHocMirror.Tree.OpenPgp;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AdHocMirror.Daemon.Tests.Support;

/// <summary>One test's world: an official upstream, a coordinator, and an in-process ahm-daemon between them.</summary>
public sealed class MirrorWorld : IAsyncDisposable
{
    private readonly TempDir _temp = new("ahm-daemon");
    private OpenPgpKeyring? _keyring;

    private MirrorWorld()
    {
    }

    /// <summary>The first coordinator: where the daemon logs in, the only one unless the world has a cluster.</summary>
    public TestCoordinator Coordinator => Coordinators[0];

    /// <summary>All coordinators, in the order the daemon is given them.</summary>
    public List<TestCoordinator> Coordinators { get; } = [];

    public OfficialUpstream Upstream { get; private set; } = null!;

    public DaemonOptions Options { get; private set; } = null!;

    public IHost Daemon { get; private set; } = null!;

    public ListLogger Log { get; } = new();

    public string Root => _temp.Path;

    public MirrorState State => Daemon.Services.GetRequiredService<MirrorState>();

    public DaemonExit Exit => Daemon.Services.GetRequiredService<DaemonExit>();

    public ServingSupervisor Serving => Daemon.Services.GetRequiredService<ServingSupervisor>();

    public string? KeyId => State.Status.KeyId;

    /// <param name="cluster">A PostgreSQL server: <paramref name="coordinators"/> coordinators on one new database of it, all given to the daemon.</param>
    public static async Task<MirrorWorld> StartAsync(
        Dictionary<string, string?>? settings = null, bool startDaemon = true, PostgresServer? cluster = null, int coordinators = 1)
    {
        var world = new MirrorWorld();
        world.Upstream = await OfficialUpstream.StartAsync(world._temp.Combine("upstream"));
        var store = cluster is null ? ((string, string)?)null : (await cluster.CreateDatabaseAsync(), cluster.PasswordFile);
        for (var i = 0; i < coordinators; i++)
        {
            world.Coordinators.Add(new TestCoordinator(world._temp.Combine(i == 0 ? "coordinator" : $"coordinator-{i}"), store));
            await world.Coordinators[i].StartAsync();
        }
        var values = world.Settings();
        foreach (var (key, value) in settings ?? [])
        {
            values[key] = value;
        }

        world.Options = DaemonSettings.Bind(values);
        world.Options.AllowRoot = true;
        world._keyring = await OpenPgpKeyring.OpenAsync(world.Upstream.Key.PublicKeyFile);
        if (startDaemon)
        {
            await world.StartDaemonAsync();
        }

        return world;
    }

    /// <summary>The daemon.conf a volunteer would write, pointing at this world's servers.</summary>
    public Dictionary<string, string?> Settings() => new()
    {
        ["coordinator"] = string.Join(' ', Coordinators.Select(c => c.Url)),
        ["public_host"] = "127.0.0.1",
        ["listen"] = "127.0.0.1",
        ["ping_port"] = FreePort.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["rsync_port"] = FreePort.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["git_port"] = FreePort.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["state_dir"] = _temp.Combine("state"),
        ["tree_dir"] = _temp.Combine("tree"),
        ["upstream"] = $"{Upstream.RsyncUri} {Upstream.GitRepository}",
        ["keyring"] = Upstream.Key.PublicKeyFile,
        ["sync_interval"] = "1s",
        ["max_backoff"] = "2s",
        ["max_clients"] = "4",
    };

    /// <summary>A second volunteer in the same world, with its own directories and ports (disposed with the world).</summary>
    public async Task<(IHost Host, DaemonOptions Options, ListLogger Log)> StartPeerAsync(Dictionary<string, string?> overrides)
    {
        var values = Settings();
        values["state_dir"] = _temp.Combine("peer-state");
        values["tree_dir"] = _temp.Combine("peer-tree");
        foreach (var (key, value) in overrides)
        {
            values[key] = value;
        }

        var options = DaemonSettings.Bind(values);
        options.AllowRoot = true;
        var log = new ListLogger();
        var host = DaemonHost.Build(options, _keyring!, logging => logging.AddProvider(log));
        _peers.Add(host);
        await host.StartAsync();
        return (host, options, log);
    }

    private readonly List<IHost> _peers = [];

    /// <summary>Trusts the keys in <paramref name="file"/> instead of the shared test key (before <see cref="StartDaemonAsync"/>).</summary>
    public async Task UseKeyringAsync(string file)
    {
        if (_keyring is not null)
        {
            await _keyring.DisposeAsync();
        }

        _keyring = await OpenPgpKeyring.OpenAsync(file);
    }

    public async Task StartDaemonAsync()
    {
        Daemon = DaemonHost.Build(Options, _keyring!, logging => logging.AddProvider(Log));
        await Daemon.StartAsync();
    }

    /// <summary>Waits until the coordinator reports this daemon online and pinged, with the versions given.</summary>
    public async Task<MirrorInfo> OnlineAsync(DateTimeOffset? version = null, TimeSpan? within = null, TestCoordinator? at = null)
    {
        at ??= Coordinator;
        MirrorInfo? seen = null;
        await Eventually.TrueAsync(async () =>
        {
            var keyId = KeyId;
            if (keyId is null)
            {
                return false;
            }

            seen = await at.MirrorAsync(keyId);
            return seen is { State: AdHocMirror.Contracts.V1.MirrorState.Online }
                && (version is null || seen.Versions.All(v => v.Generated.ToDateTimeOffset() == version))
                && seen.Versions.Count == (Options.ServesRsync ? 1 : 0) + (Options.ServesGit ? 1 : 0);
        }, $"the coordinator reports the mirror online{(version is null ? string.Empty : $" at {version:u}")} (log: {string.Join(" | ", Log.Lines.TakeLast(8))})", within ?? TimeSpan.FromSeconds(40));
        return seen!;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var line in Log.Lines)
        {
            Console.Error.WriteLine(line);
        }

        if (Daemon is not null)
        {
            try
            {
                await Daemon.StopAsync();
            }
            catch (OperationCanceledException)
            {
            }

            Daemon.Dispose();
        }

        foreach (var peer in _peers)
        {
            await peer.StopAsync();
            peer.Dispose();
        }

        foreach (var coordinator in Coordinators)
        {
            await coordinator.DisposeAsync();
        }
        if (Upstream is not null)
        {
            await Upstream.DisposeAsync();
        }

        if (_keyring is not null)
        {
            await _keyring.DisposeAsync();
        }

        _temp.Dispose();
    }
}
