using System.Globalization;
using System.Text.Json;
using AdHocMirror.Contracts;
using AdHocMirror.Contracts.V1;
using AdHocMirror.Testing;
using AdHocMirror.Testing.Trees;
using Grpc.Core;

namespace AdHocMirror.Swarm;

/// <summary>
/// The README's first command: an official rsync upstream serving a signed tree, a coordinator that
/// places loopback addresses in cities, three volunteer daemons with different limits, and a user
/// "in Munich" who syncs, syncs again after the upstream advances, and is sent elsewhere once
/// staff blacklist the nearest mirror. Everything runs on 127.0.0.0/8 and stops at the end.
/// </summary>
public sealed class DemoSwarm(string work, TextWriter output)
{
    private static readonly (int Host, string City, double Lat, double Lon, int MaxClients)[] Volunteers =
    [
        (2, "Berlin, DE", 52.52, 13.40, 4),
        (3, "Paris, FR", 48.86, 2.35, 8),
        (4, "Tokyo, JP", 35.68, 139.69, 2),
    ];

    private readonly List<LocalProcess> _processes = [];
    private readonly string _bin = AppContext.BaseDirectory;
    private int _step;

    public async Task<int> RunAsync()
    {
        try
        {
            return await StoryAsync();
        }
        finally
        {
            Say("Shutting down: volunteers log out, then the coordinator and the upstream stop.");
            foreach (var process in Enumerable.Reverse(_processes))
            {
                var code = await process.StopAsync();
                var why = code == 4 ? " (its key is blacklisted: it stopped serving and said why, as it should)" : string.Empty;
                output.WriteLine($"    {process.Name,-16} exited {code}{why}");
            }
        }
    }

    private async Task<int> StoryAsync()
    {
        var logs = Directory.CreateDirectory(Path.Combine(work, "logs")).FullName;
        Say($"Working in {work} (logs in {logs}).");

        Say("Generating a signed, Gentoo-shaped tree with a throwaway OpenPGP key (GLEP 74 Manifests, gpg --clearsign)…");
        using var key = await TestSigningKey.CreateAsync("AHM demo release key");
        var upstreamTree = Path.Combine(work, "upstream", "gentoo");
        var version = new DateTimeOffset(2026, 11, 21, 0, 45, 1, TimeSpan.Zero);
        await GentooTree.CreateAsync(upstreamTree, new GentooTreeOptions { Seed = 7, Files = 3000, Timestamp = version }, key);
        output.WriteLine($"    {GentooTree.ListContent(upstreamTree).Count:N0} files, TIMESTAMP {version:yyyy-MM-ddTHH:mm:ssZ}, signed by {key.Fingerprint}");
        // The release key as distributions ship it: a public keyring file everyone can read.
        var keyring = Path.Combine(work, "release-key.asc");
        File.Copy(key.PublicKeyFile, keyring);
        File.SetUnixFileMode(keyring, (UnixFileMode)0b110_100_100);

        var upstreamPort = FreePort.Next();
        var rsyncd = Path.Combine(work, "upstream", "rsyncd.conf");
        await File.WriteAllTextAsync(rsyncd, $"""
            pid file = {Path.Combine(work, "upstream", "rsyncd.pid")}
            use chroot = no
            [gentoo-portage]
                path = {upstreamTree}
                read only = yes
            """);
        Say($"The official upstream: rsync daemon on 127.0.0.1:{upstreamPort} (placed in New York, far from our user).");
        _processes.Add(LocalProcess.Start("official-rsync", "rsync", ["--daemon", "--no-detach", $"--config={rsyncd}", "--address=127.0.0.1", $"--port={upstreamPort}"], logs));
        var official = $"rsync://127.0.0.1:{upstreamPort}/gentoo-portage";

        var coordinatorPort = FreePort.Next();
        var adminPort = FreePort.Next();
        var coordinatorData = Directory.CreateDirectory(Path.Combine(work, "coordinator")).FullName;
        var coordinatorArgs = new List<string>
        {
            Dll("ahm-coordinator"), "serve", "--listen", $"127.0.0.1:{coordinatorPort}", "--admin-listen", $"127.0.0.1:{adminPort}",
            "--metrics-listen", "off", "--data-dir", coordinatorData, "--ping-address", "any", "--ping-interval", "2s",
            "--location-override", "127.0.0.1/32 = 48.14,11.58 Munich, DE",
            "--official", $"official-rsync {official} 40.71,-74.01",
        };
        foreach (var v in Volunteers)
        {
            coordinatorArgs.AddRange(["--location-override", $"127.0.0.{v.Host}/32 = {v.Lat.ToString(CultureInfo.InvariantCulture)},{v.Lon.ToString(CultureInfo.InvariantCulture)} {v.City}"]);
        }

        Say($"The coordinator on 127.0.0.1:{coordinatorPort} (admin 127.0.0.1:{adminPort}); CIDR overrides put 127.0.0.1 in Munich (our user), 127.0.0.2 in Berlin, .3 in Paris, .4 in Tokyo.");
        _processes.Add(LocalProcess.Start("coordinator", "dotnet", coordinatorArgs, logs));
        var adminToken = Path.Combine(coordinatorData, "admin.token");
        await Eventually.TrueAsync(() => File.Exists(adminToken), "the coordinator's admin token", TimeSpan.FromSeconds(60));
        using var adminChannel = GrpcChannels.Create($"http://127.0.0.1:{adminPort}");
        var admin = new AdminClient(adminChannel.WithBearer((await File.ReadAllTextAsync(adminToken)).Trim()));

        Say("Three volunteers start ahm-daemon: each enrols, syncs from the official upstream, verifies the signature and every file, publishes a snapshot, serves it with rsync --daemon and git daemon, logs in, and answers pings.");
        foreach (var v in Volunteers)
        {
            var home = Directory.CreateDirectory(Path.Combine(work, $"volunteer-{v.Host}")).FullName;
            // As root, the daemon drops to an unprivileged user (here nobody, as no 'ahm' user exists).
            File.SetUnixFileMode(home, (UnixFileMode)0b111_111_111);
            var conf = Path.Combine(home, "daemon.conf");
            await File.WriteAllTextAsync(conf, $"""
                coordinator = http://127.0.0.1:{coordinatorPort}
                public_host = 127.0.0.{v.Host}
                listen = 127.0.0.{v.Host}
                ping_port = {FreePort.Next()}
                rsync_port = {FreePort.Next()}
                git_port = {FreePort.Next()}
                protocols = rsync
                state_dir = {Path.Combine(home, "state")}
                tree_dir = {Path.Combine(home, "tree")}
                max_clients = {v.MaxClients}
                upstream = {official}
                sync_interval = 3s
                keyring = {keyring}
                max_backoff = 2s
                user = nobody
                """);
            output.WriteLine($"    {v.City,-11} 127.0.0.{v.Host}  max {v.MaxClients} clients");
            _processes.Add(LocalProcess.Start($"daemon-{v.City[..^4].ToLowerInvariant()}", "dotnet", [Dll("ahm-daemon"), "--config", conf, "run"], logs));
        }

        await Eventually.TrueAsync(
            async () => (await admin.ListMirrorsAsync(new ListMirrorsRequest())).Mirrors.Count(m => m.State == MirrorState.Online) == Volunteers.Length,
            "three volunteers online", TimeSpan.FromMinutes(3));
        Say("Infra staff look at the swarm (ahm-coordinator admin mirrors):");
        await AdminCliAsync(adminPort, adminToken, "mirrors");

        var repo = Path.Combine(work, "user", "gentoo");
        Directory.CreateDirectory(Path.GetDirectoryName(repo)!);
        Say("Our user in Munich runs ahm-sync for the first time (empty repository):");
        var first = await SyncAsync(repo, coordinatorPort, official, keyring);
        Tell(first);

        Say("The upstream advances: a few hundred files change, a new TIMESTAMP is signed.");
        version = version.AddHours(1);
        var changes = await GentooTree.NextVersionAsync(upstreamTree, seed: 8, changes: 300, version, key);
        output.WriteLine($"    {changes.Changed.Count} changed, {changes.Added.Count} added, {changes.Removed.Count} removed; TIMESTAMP {version:yyyy-MM-ddTHH:mm:ssZ}");
        await WaitForVersionAsync(admin, version, Volunteers.Length);

        Say("ahm-sync again: an incremental sync from the nearest mirror transfers only the change.");
        Tell(await SyncAsync(repo, coordinatorPort, official, keyring));

        var berlin = (await admin.ListMirrorsAsync(new ListMirrorsRequest())).Mirrors.First(m => m.Place.StartsWith("Berlin", StringComparison.Ordinal));
        Say($"Staff blacklist the Berlin mirror (ahm-coordinator admin blacklist {berlin.KeyId[..8]}… --for 1d --reason \"demo\"):");
        await AdminCliAsync(adminPort, adminToken, "blacklist", berlin.KeyId, "--for", "1d", "--reason", "demo: misbehaving mirror");
        var berlinDaemon = _processes.First(p => p.Name == "daemon-berlin");
        await Eventually.TrueAsync(() => berlinDaemon.HasExited, "the blacklisted Berlin daemon to stop", TimeSpan.FromMinutes(2));
        var why = File.ReadLines(berlinDaemon.Log).LastOrDefault(l => l.Contains("blacklist", StringComparison.OrdinalIgnoreCase)) ?? "(no reason logged)";
        output.WriteLine($"    the Berlin daemon stops serving and says why: {why.Trim()}");

        version = version.AddHours(1);
        await GentooTree.NextVersionAsync(upstreamTree, seed: 9, changes: 200, version, key);
        Say($"The upstream advances again (TIMESTAMP {version:yyyy-MM-ddTHH:mm:ssZ}); the two remaining mirrors pick it up.");
        await WaitForVersionAsync(admin, version, Volunteers.Length - 1);

        Say("ahm-sync once more: Berlin is no longer offered, so the user is sent to the next nearest mirror.");
        var third = await SyncAsync(repo, coordinatorPort, official, keyring);
        Tell(third);
        if (third.GetProperty("source").GetString()?.Contains("127.0.0.2", StringComparison.Ordinal) == true)
        {
            throw new InvalidOperationException("the blacklisted mirror was used");
        }

        Say("Infra staff's audit log (ahm-coordinator admin audit):");
        await AdminCliAsync(adminPort, adminToken, "audit");
        Say("Done: three syncs, each verified against the release key before it replaced the tree.");
        return 0;
    }

    private async Task WaitForVersionAsync(AdminClient admin, DateTimeOffset version, int mirrors) =>
        await Eventually.TrueAsync(
            async () => (await admin.ListMirrorsAsync(new ListMirrorsRequest())).Mirrors.Count(m =>
                m.State == MirrorState.Online && m.Versions.Any(v => v.Protocol == Protocol.Rsync && v.Generated.ToDateTimeOffset() >= version)) >= mirrors,
            $"{mirrors} mirrors serving {version:HH:mm:ss}", TimeSpan.FromMinutes(3));

    private async Task<JsonElement> SyncAsync(string repo, int coordinatorPort, string official, string keyring)
    {
        var run = await ExternalProcess.RunAsync("dotnet",
        [
            Dll("ahm-sync"), "--repo", repo, "--coordinator", $"http://127.0.0.1:{coordinatorPort}", "--protocol", "rsync",
            "--keyring", keyring, "--official", official, "--repos-conf", Path.Combine(work, "no-repos.conf"), "--json",
            // The coordinator's order (nearest first) rather than loopback round-trip times, which are all ~0 here.
            "--probe", "0",
        ], timeout: TimeSpan.FromMinutes(5));
        if (run.ExitCode != 0)
        {
            throw new InvalidOperationException($"ahm-sync exited {run.ExitCode}:\n{run.Stdout}\n{run.Stderr}");
        }

        return JsonDocument.Parse(run.Stdout).RootElement.Clone();
    }

    private void Tell(JsonElement result)
    {
        output.WriteLine($"    {result.GetProperty("message").GetString()}");
        foreach (var attempt in result.GetProperty("attempts").EnumerateArray())
        {
            output.WriteLine($"      tried {attempt.GetProperty("uri").GetString()}: {attempt.GetProperty("outcome").GetString()}, {attempt.GetProperty("files_transferred").GetInt64():N0} files, reported to the coordinator: {attempt.GetProperty("reported").GetBoolean()}");
        }
    }

    private async Task AdminCliAsync(int adminPort, string tokenFile, params string[] command)
    {
        var run = await ExternalProcess.RunAsync("dotnet",
            [Dll("ahm-coordinator"), "admin", "--admin-url", $"http://127.0.0.1:{adminPort}", "--token-file", tokenFile, .. command]);
        foreach (var line in (run.Stdout + run.Stderr).TrimEnd().Split('\n'))
        {
            output.WriteLine("    " + line);
        }

        if (run.ExitCode != 0)
        {
            throw new InvalidOperationException($"ahm-coordinator admin {string.Join(' ', command)} exited {run.ExitCode}");
        }
    }

    private string Dll(string program) => Path.Combine(_bin, program + ".dll");

    private void Say(string text) => output.WriteLine($"\n[{++_step}] {text}");
}
