using System.Globalization;
using System.Security.Cryptography;
using AdHocMirror.Contracts;
using AdHocMirror.Contracts.V1;
using AdHocMirror.Swarm;
using AdHocMirror.Testing;
using AdHocMirror.Testing.Trees;
using AdHocMirror.Tree.Manifests;
using AdHocMirror.Tree.OpenPgp;
using Grpc.Core;
using Google.Protobuf;
using Xunit.Abstractions;

namespace AdHocMirror.EndToEnd.Tests.Scenarios;

/// <summary>
/// The demo swarm's parts for one scenario, each a real executable on loopback: a signed tree at
/// <see cref="PreviousVersion"/> kept as a user's "synced yesterday" copy (and as a frozen upstream module), the same
/// tree advanced to <see cref="Version"/> served by an "official" rsync daemon, a coordinator (with short ping and
/// report tunables, its users placed in Munich by CIDR overrides: 127.0.0.1 and 127.0.1.0/24) and the volunteers of
/// the <see cref="SwarmPlan"/>. <see cref="SyncAsync"/> runs ahm-sync as a user does; <see cref="AdminCliAsync"/>
/// runs the admin command staff use; <see cref="Admin"/> is the same view over gRPC, for polling.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ScenarioSwarm : IAsyncDisposable
{
    public const string ClientCity = "Munich, DE";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private readonly TempDir _work = new("ahm-scenario");
    private readonly List<LocalProcess> _processes = [];
    private readonly string _bin = AppContext.BaseDirectory;
    private readonly SwarmPlan _plan;
    private readonly System.Diagnostics.Stopwatch _since = System.Diagnostics.Stopwatch.StartNew();
    private readonly ITestOutputHelper _output;
    private TestSigningKey _key = null!;
    private OpenPgpKeyring _keyring = null!;
    private GrpcChannel _adminChannel = null!;
    private GrpcChannel _publicChannel = null!;
    private List<string> _coordinatorArgs = [];
    private int _upstreamPort;
    private int _coordinatorStarts;
    private int _users;

    private ScenarioSwarm(SwarmPlan plan, ITestOutputHelper output)
    {
        _plan = plan;
        _output = output;
        File.SetUnixFileMode(_work.Path, (UnixFileMode)0b111_101_101);
        Logs = Directory.CreateDirectory(_work.Combine("logs")).FullName;
    }

    public string Work => _work.Path;

    public string Logs { get; }

    public string KeyringFile => _work.Combine("release-key.asc");

    public string UpstreamTree => _work.Combine("upstream", "gentoo");

    /// <summary>The tree as it was one hour before <see cref="Version"/>: a user's old copy, and the frozen upstream.</summary>
    public string PreviousTree => _work.Combine("upstream", "previous");

    public DateTimeOffset PreviousVersion { get; } = new(2026, 11, 21, 0, 45, 1, TimeSpan.Zero);

    /// <summary>The upstream's current version (advanced by <see cref="AdvanceUpstreamAsync"/>).</summary>
    public DateTimeOffset Version { get; private set; }

    public string OfficialUri => $"rsync://127.0.0.1:{_upstreamPort}/gentoo-portage";

    public int CoordinatorPort { get; private set; }

    public int AdminPort { get; private set; }

    public string CoordinatorUrl => $"http://127.0.0.1:{CoordinatorPort}";

    public string CoordinatorData => _work.Combine("coordinator");

    public LocalProcess Coordinator { get; private set; } = null!;

    public LocalProcess Official { get; private set; } = null!;

    public IReadOnlyList<Volunteer> Volunteers { get; private set; } = [];

    public AdminClient Admin { get; private set; } = null!;

    /// <summary>FindMirror as a client at 127.0.0.1 ("in Munich") that does not run ahm-sync: to see what clients are offered.</summary>
    public MatchingClient Matching { get; private set; } = null!;

    public Volunteer this[string name] => Volunteers.Single(v => v.Plan.Name == name);

    public static async Task<ScenarioSwarm> StartAsync(SwarmPlan plan, ITestOutputHelper output)
    {
        var swarm = new ScenarioSwarm(plan, output);
        try
        {
            await swarm.StartCoreAsync();
            return swarm;
        }
        catch
        {
            swarm.TellLogs();
            await swarm.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Starts the swarm, runs the scenario, then stops everything and asserts that no process of the swarm is left
    /// running (checked in /proc). On failure the programs' last log lines go to the test's output.
    /// </summary>
    public static async Task RunAsync(SwarmPlan plan, ITestOutputHelper output, Func<ScenarioSwarm, Task> scenario)
    {
        var swarm = await StartAsync(plan, output);
        IReadOnlyList<string> leftovers;
        try
        {
            await scenario(swarm);
        }
        catch
        {
            swarm.TellLogs();
            throw;
        }
        finally
        {
            leftovers = await swarm.StopAsync();
            await swarm.DisposeAsync();
        }

        Assert.True(leftovers.Count == 0, "processes left running after the swarm stopped:\n" + string.Join('\n', leftovers));
    }

    private async Task StartCoreAsync()
    {
        _key = await TestSigningKey.SharedAsync();
        File.Copy(_key.PublicKeyFile, KeyringFile);
        File.SetUnixFileMode(KeyringFile, (UnixFileMode)0b110_100_100);
        _keyring = await OpenPgpKeyring.OpenAsync(KeyringFile);

        // Yesterday's tree, kept aside, then today's: the upstream serves today's.
        await GentooTree.CreateAsync(UpstreamTree, new GentooTreeOptions { Seed = 11, Files = _plan.Files, Timestamp = PreviousVersion }, _key);
        await CopyTreeAsync(UpstreamTree, PreviousTree);
        Version = PreviousVersion.AddHours(1);
        await GentooTree.NextVersionAsync(UpstreamTree, seed: 12, changes: _plan.Files / 5, Version, _key);

        _upstreamPort = FreePort.Next();
        await File.WriteAllTextAsync(_work.Combine("upstream", "rsyncd.conf"), $"""
            pid file = {_work.Combine("upstream", "rsyncd.pid")}
            use chroot = no
            [gentoo-portage]
                path = {UpstreamTree}
                read only = yes
            [frozen]
                path = {PreviousTree}
                read only = yes
            """);
        StartOfficial();

        CoordinatorPort = FreePort.Next();
        AdminPort = FreePort.Next();
        Directory.CreateDirectory(CoordinatorData);
        _coordinatorArgs =
        [
            Dll("ahm-coordinator"), "serve", "--listen", $"127.0.0.1:{CoordinatorPort}", "--admin-listen", $"127.0.0.1:{AdminPort}",
            "--metrics-listen", "off", "--data-dir", CoordinatorData, "--ping-address", "any",
            "--ping-interval", _plan.PingInterval, "--ping-failures", _plan.PingFailures.ToString(CultureInfo.InvariantCulture), "--ping-timeout", "2s",
            "--quarantine-reports", _plan.QuarantineReports.ToString(CultureInfo.InvariantCulture), "--lease-ttl", _plan.LeaseTtl,
            // The scenarios' "distinct clients" share 127.0.1.0/24, one network to the reveal budget: not what they test.
            "--reveal-budget", "off", "--findmirror-per-minute", "off",
            "--location-override", $"127.0.0.1/32 = 48.14,11.58 {ClientCity}",
            "--location-override", $"127.0.1.0/24 = 48.14,11.58 {ClientCity}",
            "--official", $"official-rsync {OfficialUri} 40.71,-74.01",
        ];
        foreach (var v in _plan.Volunteers)
        {
            _coordinatorArgs.AddRange(["--location-override", $"127.0.0.{v.Host}/32 = {Invariant(v.Latitude)},{Invariant(v.Longitude)} {v.City}"]);
        }

        StartCoordinator();
        var tokenFile = Path.Combine(CoordinatorData, "admin.token");
        await Eventually.TrueAsync(() => File.Exists(tokenFile) && new FileInfo(tokenFile).Length > 0, "the coordinator's admin token", Patience);
        _adminChannel = GrpcChannels.Create($"http://127.0.0.1:{AdminPort}");
        Admin = new AdminClient(_adminChannel.WithBearer((await File.ReadAllTextAsync(tokenFile)).Trim()));
        _publicChannel = GrpcChannels.Create(CoordinatorUrl);
        Matching = new MatchingClient(_publicChannel);

        var volunteers = new List<Volunteer>();
        foreach (var plan in _plan.Volunteers)
        {
            var home = Directory.CreateDirectory(_work.Combine($"volunteer-{plan.Name}")).FullName;
            // Started as root, the daemon hands its directories to an unprivileged user (nobody here) and drops to it.
            File.SetUnixFileMode(home, (UnixFileMode)0b111_111_111);
            var rsyncPort = FreePort.Next();
            var conf = Path.Combine(home, "daemon.conf");
            await File.WriteAllTextAsync(conf, $"""
                coordinator = {CoordinatorUrl}
                public_host = 127.0.0.{plan.Host}
                listen = 127.0.0.{plan.Host}
                ping_port = {FreePort.Next()}
                rsync_port = {rsyncPort}
                git_port = {FreePort.Next()}
                protocols = rsync
                state_dir = {Path.Combine(home, "state")}
                tree_dir = {Path.Combine(home, "tree")}
                max_clients = {plan.MaxClients}
                upstream = rsync://127.0.0.1:{_upstreamPort}/{(plan.FrozenUpstream ? "frozen" : "gentoo-portage")}
                sync_interval = {plan.SyncInterval}
                keyring = {KeyringFile}
                max_backoff = 1s
                user = nobody
                """);
            var process = LocalProcess.Start($"daemon-{plan.Name}", "dotnet", [Dll("ahm-daemon"), "--config", conf, "run"], Logs);
            _processes.Add(process);
            volunteers.Add(new Volunteer(plan, process, $"rsync://127.0.0.{plan.Host}:{rsyncPort}/gentoo-portage", Path.Combine(home, "tree", "rsync", "current")));
        }

        Volunteers = volunteers;
        await Eventually.TrueAsync(
            async () => (await MirrorsAsync()).Count(m => m.State == MirrorState.Online && m.Versions.Count > 0) == Volunteers.Count,
            $"{Volunteers.Count} volunteers online", TimeSpan.FromMinutes(2));
        foreach (var volunteer in Volunteers)
        {
            volunteer.KeyId = (await MirrorOfAsync(volunteer)).KeyId;
        }

        Say($"swarm up: {string.Join(", ", Volunteers.Select(v => $"{v} key {v.KeyId[..8]}"))}");
    }

    public void StartOfficial()
    {
        Official = LocalProcess.Start($"official-rsync-{_processes.Count}", "rsync",
            ["--daemon", "--no-detach", $"--config={_work.Combine("upstream", "rsyncd.conf")}", "--address=127.0.0.1", $"--port={_upstreamPort}"], Logs);
        _processes.Add(Official);
    }

    /// <summary>Starts the coordinator, or starts it again after a crash: same flags, same data directory, same ports.</summary>
    public void StartCoordinator()
    {
        Coordinator = LocalProcess.Start($"coordinator-{++_coordinatorStarts}", "dotnet", _coordinatorArgs, Logs);
        _processes.Add(Coordinator);
    }

    /// <summary>The upstream publishes a new signed version, one hour on.</summary>
    public async Task AdvanceUpstreamAsync()
    {
        Version = Version.AddHours(1);
        await GentooTree.NextVersionAsync(UpstreamTree, seed: 13 + (int)(Version - PreviousVersion).TotalHours, changes: _plan.Files / 5, Version, _key);
    }

    /// <summary>A user's repository directory: empty, or holding a copy of yesterday's verified tree.</summary>
    public async Task<string> NewUserRepoAsync(bool withPreviousTree = false)
    {
        var repo = _work.Combine("users", $"user-{Interlocked.Increment(ref _users)}", "gentoo");
        Directory.CreateDirectory(Path.GetDirectoryName(repo)!);
        if (withPreviousTree)
        {
            await CopyTreeAsync(PreviousTree, repo);
        }

        return repo;
    }

    /// <summary>Runs ahm-sync as a user does, with --json; <paramref name="coordinatorUrl"/> defaults to the coordinator itself.</summary>
    public async Task<SyncRun> SyncAsync(string repo, string? coordinatorUrl = null, params string[] extra)
    {
        var run = await ExternalProcess.RunAsync("dotnet",
        [
            Dll("ahm-sync"), "--repo", repo, "--coordinator", coordinatorUrl ?? CoordinatorUrl, "--protocol", "rsync",
            "--keyring", KeyringFile, "--official", OfficialUri, "--repos-conf", _work.Combine("no-repos.conf"),
            "--postsync-dir", _work.Combine("no-postsync.d"), "--json", "--coordinator-timeout", "30s", "--connect-timeout", "5s",
            // The coordinator's order (nearest first), not loopback round-trip times, which are all ~0 here.
            "--probe", "0", .. extra,
        ], timeout: TimeSpan.FromMinutes(3));
        var result = SyncRun.Parse(run);
        Say($"ahm-sync {repo}: exit {result.ExitCode}: {result.Message}");
        foreach (var attempt in result.Attempts)
        {
            _output.WriteLine($"    {attempt.Uri}: {attempt.Outcome} (reported {attempt.Reported}) {attempt.Detail}");
        }

        return result;
    }

    /// <summary>Runs <c>ahm-coordinator admin … --json</c> as staff do and parses its answer.</summary>
    public async Task<T> AdminCliAsync<T>(MessageParser<T> parser, params string[] command)
        where T : IMessage<T>
    {
        var run = await AdminCliRawAsync([.. command, "--json"]);
        Assert.True(run.ExitCode == 0, $"ahm-coordinator admin {string.Join(' ', command)} exited {run.ExitCode}: {run.Stdout}{run.Stderr}");
        return parser.ParseJson(run.Stdout);
    }

    public async Task<ExternalProcess.Result> AdminCliRawAsync(params string[] command)
    {
        var run = await ExternalProcess.RunAsync("dotnet",
            [Dll("ahm-coordinator"), "admin", "--admin-url", $"http://127.0.0.1:{AdminPort}", "--token-file", Path.Combine(CoordinatorData, "admin.token"), .. command]);
        Say($"ahm-coordinator admin {string.Join(' ', command)}: exit {run.ExitCode}\n{run.Stdout}{run.Stderr}");
        return run;
    }

    public async Task<IReadOnlyList<MirrorInfo>> MirrorsAsync() =>
        (await Admin.ListMirrorsAsync(new ListMirrorsRequest(), Calls.WithTimeout(TimeSpan.FromSeconds(10)))).Mirrors;

    /// <summary>The coordinator's current entry for a volunteer's endpoint (whatever key it holds now).</summary>
    public async Task<MirrorInfo> MirrorOfAsync(Volunteer volunteer) =>
        (await MirrorsAsync()).Where(m => m.Endpoints.RsyncUri == volunteer.RsyncUri)
            .OrderBy(m => m.State == MirrorState.Online ? 0 : 1).First();

    /// <summary>What a client in Munich with <paramref name="current"/> would be offered (takes leases; they expire or are released).</summary>
    public async Task<FindMirrorReply> FindAsync(DateTimeOffset? current = null, uint count = 8)
    {
        var request = new FindMirrorRequest { Protocol = Protocol.Rsync, Count = count };
        if (current is { } c)
        {
            request.Current = new TreeVersion { Protocol = Protocol.Rsync, Generated = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(c) };
        }

        var reply = await Matching.FindMirrorAsync(request, Calls.WithTimeout(TimeSpan.FromSeconds(10)));
        foreach (var candidate in reply.Candidates)
        {
            // Release at once: looking must not fill the mirrors up.
            await Matching.ReportSyncAsync(new ReportSyncRequest { LeaseId = candidate.LeaseId, Outcome = SyncOutcome.Abandoned }, Calls.WithTimeout(TimeSpan.FromSeconds(10)));
        }

        return reply;
    }

    public Task WaitForMirrorAsync(Volunteer volunteer, Func<MirrorInfo, bool> condition, string what, TimeSpan? within = null) =>
        Eventually.TrueAsync(async () => (await MirrorsAsync()).Any(m => m.Endpoints.RsyncUri == volunteer.RsyncUri && condition(m)), $"{volunteer.Plan.Name}: {what}", within ?? Patience);

    /// <summary>Verifies a user's tree as ahm-sync's own check would, independently: signature, every file, version.</summary>
    public async Task<DateTimeOffset> VerifiedVersionOfAsync(string repo)
    {
        var verification = await new ManifestTreeVerifier().VerifyAsync(repo, _keyring);
        Assert.True(verification.Succeeded, $"{repo} does not verify: {string.Join("; ", verification.Problems.Take(3).Select(p => $"{p.Path}: {p.Kind}"))}");
        return verification.Version.Generated;
    }

    /// <summary>A digest of every file's path and bytes: equal digests mean the tree was not touched.</summary>
    public static string Digest(string tree)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var file in Directory.EnumerateFiles(tree, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            hash.AppendData(System.Text.Encoding.UTF8.GetBytes(Path.GetRelativePath(tree, file) + "\0"));
            hash.AppendData(File.ReadAllBytes(file));
        }

        return Convert.ToHexString(hash.GetHashAndReset());
    }

    /// <summary>
    /// Hard-kills a volunteer as a crashed machine dies: its own process and, found in /proc before the kill (once
    /// re-parented they cannot be told apart), the rsync daemon and any other children it runs.
    /// </summary>
    public async Task<IReadOnlyList<ProcessTable.Entry>> KillVolunteerAsync(Volunteer volunteer)
    {
        var children = ProcessTable.DescendantsOf(volunteer.Process.Id);
        await volunteer.Process.KillAsync();
        var orphans = children.Where(c => ProcessTable.IsRunning(c.Pid)).ToList();
        Say($"{volunteer.Plan.Name} killed; {orphans.Count} of its {children.Count} children outlived it: {string.Join("; ", orphans.Select(o => o.CommandLine))}");
        foreach (var child in children)
        {
            ProcessTable.Kill(child.Pid);
        }

        await Eventually.TrueAsync(() => children.All(c => !ProcessTable.IsRunning(c.Pid)), $"{volunteer.Plan.Name}'s children gone", Patience);
        return children;
    }

    /// <summary>
    /// Stops everything in reverse order (SIGTERM, as init does) and returns what is still running afterwards with the
    /// work directory in its command line (after killing it): a scenario asserts this is empty.
    /// </summary>
    public async Task<IReadOnlyList<string>> StopAsync()
    {
        foreach (var process in Enumerable.Reverse(_processes))
        {
            await process.StopAsync(TimeSpan.FromSeconds(20));
        }

        _processes.Clear();
        var leftovers = new List<string>();
        try
        {
            await Eventually.TrueAsync(() => ProcessTable.Mentioning(Work).Count == 0, "every swarm process to end", TimeSpan.FromSeconds(15));
        }
        catch (TimeoutException)
        {
            foreach (var entry in ProcessTable.Mentioning(Work))
            {
                leftovers.Add($"{entry.Pid} (parent {entry.ParentPid}): {entry.CommandLine}");
                ProcessTable.Kill(entry.Pid);
            }
        }

        return leftovers;
    }

    /// <summary>A line in the scenario's story, stamped with the time since the swarm began.</summary>
    public void Say(string text) => _output.WriteLine($"[{_since.Elapsed.TotalSeconds,5:0.0} s] {text}");

    /// <summary>The last lines of every program's log, for a failing scenario's output.</summary>
    public void TellLogs()
    {
        foreach (var log in Directory.Exists(Logs) ? Directory.GetFiles(Logs).Order(StringComparer.Ordinal).ToArray() : [])
        {
            _output.WriteLine($"--- {Path.GetFileName(log)} (last lines)");
            try
            {
                foreach (var line in File.ReadLines(log).TakeLast(25))
                {
                    _output.WriteLine(line);
                }
            }
            catch (IOException)
            {
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync();
        }
        finally
        {
            _adminChannel?.Dispose();
            _publicChannel?.Dispose();
            if (_keyring is not null)
            {
                await _keyring.DisposeAsync();
            }

            _work.Dispose();
        }
    }

    private static async Task CopyTreeAsync(string from, string to) =>
        (await ExternalProcess.RunAsync("cp", ["-a", from, to])).EnsureSuccess($"cp -a {from} {to}");

    private static string Invariant(double value) => value.ToString(CultureInfo.InvariantCulture);

    private string Dll(string program) => Path.Combine(_bin, program + ".dll");

    /// <summary>One volunteer: its daemon process, the rsync URI it advertises, and the snapshot it serves.</summary>
    public sealed class Volunteer(VolunteerPlan plan, LocalProcess process, string rsyncUri, string servedTree)
    {
        public VolunteerPlan Plan { get; } = plan;

        public LocalProcess Process { get; } = process;

        public string RsyncUri { get; } = rsyncUri;

        /// <summary>The <c>current</c> snapshot link its rsync module serves.</summary>
        public string ServedTree { get; } = servedTree;

        /// <summary>Its key when the swarm came up.</summary>
        public string KeyId { get; internal set; } = string.Empty;

        public override string ToString() => $"{Plan.Name} ({RsyncUri})";
    }
}
