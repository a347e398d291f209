using System.Diagnostics;
using System.Net;
using System.Text.Json;
using AdHocMirror.Contracts;
using AdHocMirror.Contracts.V1;
using AdHocMirror.Coordinator.Hosting;
using AdHocMirror.Coordinator.Matching;
using AdHocMirror.Coordinator.Mirrors;
using AdHocMirror.Coordinator.Sessions;
using AdHocMirror.Sync.Cli;
using AdHocMirror.Testing;
using AdHocMirror.Testing.Trees;
using AdHocMirror.Tree.Manifests;
using AdHocMirror.Tree.OpenPgp;
using Grpc.Core;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ContractVersion = AdHocMirror.Contracts.V1.TreeVersion;

namespace AdHocMirror.Sync.Tests.Support;

/// <summary>The result of one ahm-sync run: exit code, the --json object, and what went to stderr.</summary>
public sealed record SyncRun(int ExitCode, JsonElement Result, string Stderr)
{
    public string Status => Result.GetProperty("status").GetString()!;

    public string? Version => Result.TryGetProperty("version", out var v) ? v.GetString() : null;

    public string? Source => Result.TryGetProperty("source", out var v) ? v.GetString() : null;

    public long BytesReceived => Result.GetProperty("bytes_received").GetInt64();

    public IReadOnlyList<JsonElement> Attempts => [.. Result.GetProperty("attempts").EnumerateArray()];

    public override string ToString() => $"exit {ExitCode}: {Result}\n{Stderr}";
}

/// <summary>
/// A test world: a real coordinator in this process (CIDR overrides place 127.0.0.2/.3/.4 in Berlin, Paris, Tokyo and
/// the client, 127.0.0.1, in Munich), signed generated trees V1 and V2, mirrors = real rsync daemons on 127.0.0.x with
/// ping responders logged in to the coordinator, an official rsync mirror far away, and the client's repository.
/// </summary>
public sealed class SyncWorld : IAsyncDisposable
{
    public static readonly DateTimeOffset V1 = new(2026, 11, 20, 0, 45, 1, TimeSpan.Zero);
    public static readonly DateTimeOffset V2 = new(2026, 11, 21, 0, 45, 1, TimeSpan.Zero);
    public const int TreeFiles = 400;

    private readonly List<IAsyncDisposable> _owned = [];
    private IHost? _coordinator;

    private SyncWorld(TempDir dir, TestSigningKey key)
    {
        Dir = dir;
        Key = key;
    }

    public TempDir Dir { get; }

    public TestSigningKey Key { get; }

    public ManualClock Clock { get; } = new();

    public string? CoordinatorAddress { get; private set; }

    public MatchingClient? Matching { get; private set; }

    public MirrorDirectory? Directory => _coordinator?.Services.GetRequiredService<MirrorDirectory>();

    /// <summary>The coordinator's figures, as /metrics shows them.</summary>
    public IReadOnlyDictionary<string, double> Metrics => _coordinator!.Services.GetRequiredService<AdHocMirror.Coordinator.Observability.CoordinatorMetrics>().Flatten();

    public string Repository => Dir.Combine("repos", "gentoo");

    public string TreeV1 => Dir.Combine("trees", "v1");

    public string TreeV2 => Dir.Combine("trees", "v2");

    public RsyncDaemon? Official { get; private set; }

    public static async Task<SyncWorld> CreateAsync(bool coordinator = true, string? officialTree = "v2", Action<CoordinatorOptions>? configure = null)
    {
        var world = new SyncWorld(new TempDir("ahm-sync"), await TestSigningKey.SharedAsync());
        await GentooTree.CreateAsync(world.TreeV1, new GentooTreeOptions { Seed = 11, Files = TreeFiles, Timestamp = V1 }, world.Key);
        await CopyTreeAsync(world.TreeV1, world.TreeV2);
        await GentooTree.NextVersionAsync(world.TreeV2, seed: 5, changes: 10, V2, world.Key);
        if (officialTree is not null)
        {
            world.Official = await world.ServeAsync("127.0.0.9", await world.CopyOfAsync(officialTree));
        }

        if (coordinator)
        {
            await world.StartCoordinatorAsync(configure);
        }

        return world;
    }

    private async Task StartCoordinatorAsync(Action<CoordinatorOptions>? configure)
    {
        var options = new CoordinatorOptions
        {
            Listen = "127.0.0.1:0",
            AdminListen = "127.0.0.1:0",
            MetricsListen = "127.0.0.1:0",
            DataDir = Dir.Combine("coordinator"),
        };
        options.Keys.RegistrationsPerNetworkPerHour = 10_000;
        options.Keys.MaxMirrorsPerAddress = 10_000;
        options.Sessions.PingAddressPolicy = PingAddressPolicy.Any;
        options.Geo.Overrides.AddRange(
        [
            "127.0.0.2/32 = 52.52,13.40 Berlin, DE",
            "127.0.0.3/32 = 48.86,2.35 Paris, FR",
            "127.0.0.4/32 = 35.68,139.69 Tokyo, JP",
            "127.0.0.5/32 = 48.20,16.37 Vienna, AT",
            "127.0.0.0/8 = 48.14,11.58 Munich, DE",
        ]);
        options.Matching.Official =
        [
            new OfficialMirrorOptions { Name = "official-rsync", Uri = Official?.Uri ?? "rsync://127.0.0.9:1/gentoo-portage", Protocol = Protocol.Rsync, Latitude = -45, Longitude = 170 },
        ];
        configure?.Invoke(options);
        _coordinator = CoordinatorHost.Build(options, logging => logging.SetMinimumLevel(LogLevel.Warning), Clock);
        await _coordinator.StartAsync();
        var listeners = _coordinator.Services.GetRequiredService<CoordinatorListeners>();
        CoordinatorAddress = $"http://127.0.0.1:{listeners.Public.Server.Port}";
        var channel = GrpcChannels.Create(CoordinatorAddress);
        _owned.Add(new Disposer(() => { channel.Dispose(); return ValueTask.CompletedTask; }));
        Matching = new MatchingClient(channel);
        _registry = new RegistryClient(channel);
        _sessions = new SessionsClient(channel);
    }

    private RegistryClient? _registry;
    private SessionsClient? _sessions;

    /// <summary>A private copy of a tree (v1, v2 or a path), so a test may change it without touching others.</summary>
    public async Task<string> CopyOfAsync(string tree)
    {
        var source = tree switch { "v1" => TreeV1, "v2" => TreeV2, _ => tree };
        var copy = Dir.Combine("served", Guid.NewGuid().ToString("N")[..8]);
        await CopyTreeAsync(source, copy);
        return copy;
    }

    public static async Task CopyTreeAsync(string from, string to)
    {
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(to)!);
        (await ExternalProcess.RunAsync("cp", ["-a", "--", from, to])).EnsureSuccess("cp -a");
    }

    public async Task<RsyncDaemon> ServeAsync(string host, string path, int? bandwidthKiBps = null, IEnumerable<string>? moduleSettings = null)
    {
        var daemon = await RsyncDaemon.StartAsync(host, path, Dir.Combine("rsyncd"), bandwidthKiBps, moduleSettings);
        _owned.Add(daemon);
        return daemon;
    }

    /// <summary>Brings a mirror on 127.0.0.<paramref name="host"/> online serving <paramref name="tree"/> and advertising <paramref name="advertised"/>.</summary>
    public async Task<RsyncDaemon> AddMirrorAsync(int host, string tree, DateTimeOffset advertised, int? bandwidthKiBps = null)
    {
        var address = $"127.0.0.{host}";
        var daemon = await ServeAsync(address, await CopyOfAsync(tree), bandwidthKiBps);
        await LoginAsync(address, new MirrorEndpoints { RsyncUri = daemon.Uri }, Version(Protocol.Rsync, advertised));
        return daemon;
    }

    public async Task LoginAsync(string address, MirrorEndpoints endpoints, ContractVersion version)
    {
        var ping = new FakeMirror(IPAddress.Parse(address));
        await ping.StartAsync();
        _owned.Add(ping);
        ping.Versions.Add(version);
        endpoints.PingAddress = $"{address}:{ping.Port}";
        var key = await _registry!.RegisterAsync(new RegisterRequest { Software = "test/1" });
        var login = new LoginRequest { Endpoints = endpoints, Limits = new LoadLimits { MaxClients = 10 }, Software = "test" };
        login.Versions.Add(version);
        var reply = await _sessions!.LoginAsync(login, new CallOptions(Credentials.ForKey(key.KeyId, key.Secret, null)));
        ping.Accept(reply);
        await Eventually.TrueAsync(
            () =>
            {
                Clock.Advance(TimeSpan.FromSeconds(1));
                return Directory!.Find(key.KeyId)?.IsEligible == true;
            },
            $"mirror on {address} online");
    }

    public static ContractVersion Version(Protocol protocol, DateTimeOffset generated, string commit = "") =>
        new() { Protocol = protocol, Generated = Timestamp.FromDateTimeOffset(generated), Commit = commit };

    /// <summary>Installs a tree as the client's repository (as a previous sync would have).</summary>
    public Task InstallAsync(string tree) => CopyTreeAsync(tree switch { "v1" => TreeV1, "v2" => TreeV2, _ => tree }, Repository);

    /// <summary>The arguments every run needs: the repository, the test keyring, no system repos.conf or hooks, JSON.</summary>
    public List<string> Arguments(params string[] extra)
    {
        List<string> arguments = extra.Contains("--repo") ? [] : ["--repo", Repository];
        if (!extra.Contains("--keyring"))
        {
            arguments.AddRange(["--keyring", Key.PublicKeyFile]);
        }

        arguments.AddRange(["--repos-conf", Dir.Combine("no-repos.conf"), "--postsync-dir", Dir.Combine("postsync.d"), "--json", "--connect-timeout", "5s"]);
        if (CoordinatorAddress is not null && !extra.Contains("--coordinator"))
        {
            arguments.AddRange(["--coordinator", CoordinatorAddress]);
        }

        if (Official is not null && !extra.Contains("--official"))
        {
            arguments.AddRange(["--official", Official.Uri]);
        }

        if (!extra.Contains("--probe"))
        {
            // Every mirror here is on loopback: connect times are scheduling noise on a busy machine, and tests assert
            // the coordinator's order (RoundTripProbeTests test the probe itself).
            arguments.AddRange(["--probe", "0"]);
        }

        arguments.AddRange(extra);
        return arguments;
    }

    /// <summary>Runs ahm-sync in this process (the real command line, output captured).</summary>
    public async Task<SyncRun> SyncAsync(params string[] extra)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await SyncCommandLine.InvokeAsync([.. Arguments(extra)], stdout, stderr);
        return Parse(code, stdout.ToString(), stderr.ToString());
    }

    public static SyncRun Parse(int code, string stdout, string stderr)
    {
        var line = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault(l => l.StartsWith('{'));
        Assert.True(line is not null, $"no JSON result (exit {code}):\n{stdout}\n{stderr}");
        return new SyncRun(code, JsonDocument.Parse(line).RootElement.Clone(), stderr);
    }

    /// <summary>The built ahm-sync next to the tests, run as its own process.</summary>
    public static string SyncDll => Path.Combine(AppContext.BaseDirectory, "ahm-sync.dll");

    public Process StartProcess(params string[] extra) => Process.Start(StartInfo(extra))!;

    public ProcessStartInfo StartInfo(params string[] extra)
    {
        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(SyncDll);
        foreach (var argument in Arguments(extra))
        {
            start.ArgumentList.Add(argument);
        }

        return start;
    }

    public async Task<SyncRun> SyncProcessAsync(params string[] extra)
    {
        using var process = StartProcess(extra);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await process.WaitForExitAsync(cts.Token);
        return Parse(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Full GLEP 74 verification of the client's repository (every file hashed): the tree is whole and signed.</summary>
    public async Task<AdHocMirror.Tree.Versions.TreeVersion> VerifyRepositoryAsync()
    {
        await using var keyring = await OpenPgpKeyring.OpenAsync(Key.PublicKeyFile);
        var result = await new ManifestTreeVerifier().VerifyAsync(Repository, keyring);
        Assert.True(result.Succeeded, $"repository does not verify: {string.Join("; ", result.Problems.Take(5))}");
        return result.Version;
    }

    public static string Stamp(DateTimeOffset version) => version.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);

    public async ValueTask DisposeAsync()
    {
        foreach (var owned in Enumerable.Reverse(_owned))
        {
            await owned.DisposeAsync();
        }

        if (_coordinator is not null)
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            await _coordinator.StopAsync(cts.Token);
            _coordinator.Dispose();
        }

        Dir.Dispose();
    }

    private sealed class Disposer(Func<ValueTask> dispose) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => dispose();
    }
}
