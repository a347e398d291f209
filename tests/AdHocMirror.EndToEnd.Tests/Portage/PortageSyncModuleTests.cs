using System.Net.Sockets;
using AdHocMirror.EndToEnd.Tests.Scenarios;
using AdHocMirror.Swarm;
using AdHocMirror.Testing;
using AdHocMirror.Testing.Trees;
using Xunit.Abstractions;

namespace AdHocMirror.EndToEnd.Tests.Portage;

/// <summary>
/// The real portage (reference copy, Debian's python3) with <c>sync-type = ahm</c> in repos.conf: <c>emaint sync</c>
/// and <c>emerge --sync</c> go through the project's sync module and ahm-sync against one loopback swarm (coordinator,
/// a volunteer in Berlin, an official rsync upstream in New York), in one story so the swarm is started once: first and
/// incremental sync, a tampered volunteer, git, the coordinator down, then nothing usable.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class PortageSyncModuleTests(ITestOutputHelper output)
{
    [PortageFact]
    public Task Portage_syncs_through_the_swarm_with_the_ahm_module() => ScenarioSwarm.RunAsync(new SwarmPlan
    {
        Volunteers = [new("berlin", 2, "Berlin, DE", 52.52, 13.40)],
    }, output, async swarm =>
    {
        using var portage = await PortageRoot.CreateAsync();
        var berlin = swarm["berlin"];
        async Task<PortageRun> Run(Func<Task<PortageRun>> command)
        {
            var run = await command();
            swarm.Say(run.ToString());
            return run;
        }

        // First sync into an empty location: from the volunteer, verified, in place; portage's hooks ran once.
        var repo = await swarm.NewUserRepoAsync();
        portage.ReposConf(RsyncSection(repo, swarm));
        var first = await Run(() => portage.EmaintSyncAsync());
        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Contains($">>> Syncing repository 'gentoo' into '{repo}'...", first.Lines);
        Assert.Contains(first.Lines, l => l.StartsWith($">>> Synced volunteer mirror {berlin.RsyncUri}", StringComparison.Ordinal) && l.Contains("Berlin", StringComparison.Ordinal));
        Assert.Contains(first.Lines, l => l.StartsWith($">>> Verified version {SyncRun.VersionText(swarm.Version)}", StringComparison.Ordinal));
        Assert.DoesNotContain("\"status\"", first.Output, StringComparison.Ordinal);
        Assert.Equal(swarm.Version, await swarm.VerifiedVersionOfAsync(repo));
        AssertPortageSees(repo, swarm.UpstreamTree, swarm.Version);
        Assert.Equal([$"gentoo {swarm.CoordinatorUrl} {repo}"], portage.HookCalls);
        var call = Assert.Single(portage.AhmSyncCalls);
        Assert.Contains("--no-postsync-hooks", call, StringComparison.Ordinal);
        Assert.Contains($"--keyring {swarm.KeyringFile}", call, StringComparison.Ordinal);

        // Incremental: the upstream advances, the volunteer follows, emerge --sync takes the new tree from it.
        await swarm.AdvanceUpstreamAsync();
        await swarm.WaitForMirrorAsync(berlin, m => m.Versions.Any(v => v.Generated.ToDateTimeOffset() == swarm.Version), "serves the new version");
        var second = await Run(() => portage.EmergeSyncAsync());
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Contains(second.Lines, l => l.StartsWith($">>> Synced volunteer mirror {berlin.RsyncUri}", StringComparison.Ordinal));
        Assert.Contains("=== Sync completed for gentoo", second.Lines);
        Assert.Equal(swarm.Version, await swarm.VerifiedVersionOfAsync(repo));
        AssertPortageSees(repo, swarm.UpstreamTree, swarm.Version);
        Assert.Equal(2, portage.HookCalls.Count);

        // A tampered volunteer: a user a version behind is sent there first; the tree is refused and reported, and the
        // official upstream is used; portage sees a good sync.
        var tampered = MaliciousMirrorTests.Tamper(berlin.ServedTree);
        var behind = await swarm.NewUserRepoAsync(withPreviousTree: true);
        portage.ReposConf(RsyncSection(behind, swarm));
        var refused = await Run(() => portage.EmaintSyncAsync());
        Assert.True(refused.ExitCode == 0, refused.ToString());
        Assert.Contains(refused.Lines, l => l.Contains($"volunteer mirror {berlin.RsyncUri}", StringComparison.Ordinal)
            && l.Contains("failed verification; reported to the coordinator", StringComparison.Ordinal));
        Assert.Contains(refused.Lines, l => l.StartsWith($">>> Synced official mirror {swarm.OfficialUri}", StringComparison.Ordinal));
        Assert.Equal(swarm.Version, await swarm.VerifiedVersionOfAsync(behind));
        Assert.Equal(File.ReadAllBytes(Path.Combine(swarm.UpstreamTree, tampered)), File.ReadAllBytes(Path.Combine(behind, tampered)));
        Assert.Equal(3, portage.HookCalls.Count);

        // sync-user (root only): portage spawns ahm-sync as that user, so the new tree belongs to it.
        var hooks = 3;
        if (Environment.UserName == "root")
        {
            var owned = await swarm.NewUserRepoAsync();
            var nobody = await IdAsync("-u", "nobody");
            (await ExternalProcess.RunAsync("chown", ["nobody:", Path.GetDirectoryName(owned)!])).EnsureSuccess("chown");
            portage.ReposConf(RsyncSection(owned, swarm) + "\nsync-user = nobody");
            var asNobody = await Run(() => portage.EmaintSyncAsync());
            Assert.True(asNobody.ExitCode == 0, asNobody.ToString());
            Assert.Equal(swarm.Version, await swarm.VerifiedVersionOfAsync(owned));
            Assert.Equal(nobody, await StatOwnerAsync(Path.Combine(owned, "Manifest")));
            Assert.Equal(++hooks, portage.HookCalls.Count);
        }

        // git through the same module: the coordinator knows no git mirror here, so the official git upstream serves a
        // first and an incremental sync; portage records each head (repo_revisions, through retrieve_head; only for a
        // repository it does not take for volatile, which outside /var/db/repos needs volatile = no).
        await GitStoryAsync(swarm, portage, Run);
        Assert.Equal(hooks + 2, portage.HookCalls.Count);

        // The coordinator down: the official fallback, and the module says so.
        await swarm.Coordinator.StopAsync();
        var alone = await swarm.NewUserRepoAsync(withPreviousTree: true);
        portage.ReposConf(RsyncSection(alone, swarm));
        var fallback = await Run(() => portage.EmaintSyncAsync());
        Assert.True(fallback.ExitCode == 0, fallback.ToString());
        Assert.Contains(fallback.Lines, l => l.Contains($"Coordinator {swarm.CoordinatorUrl} unreachable", StringComparison.Ordinal)
            && l.EndsWith("synced from the official mirrors directly", StringComparison.Ordinal));
        Assert.Contains(fallback.Lines, l => l.StartsWith($">>> Synced official mirror {swarm.OfficialUri}", StringComparison.Ordinal));
        Assert.Equal(swarm.Version, await swarm.VerifiedVersionOfAsync(alone));

        // Nothing usable (coordinator and official upstream down): portage reports failure with the module's one-line
        // reason and ahm-sync's code, and the old tree is untouched.
        await swarm.Official.StopAsync();
        var stuck = await swarm.NewUserRepoAsync(withPreviousTree: true);
        portage.ReposConf(RsyncSection(stuck, swarm));
        var before = ScenarioSwarm.Digest(stuck);
        var failed = await Run(() => portage.EmaintSyncAsync());
        Assert.NotEqual(0, failed.ExitCode);
        var reason = Assert.Single(failed.Lines, l => l.StartsWith("!!! ", StringComparison.Ordinal) && !l.Contains("News items", StringComparison.Ordinal));
        Assert.StartsWith("!!! ahm-sync: ", reason, StringComparison.Ordinal);
        Assert.Contains("no mirror could be reached", reason, StringComparison.Ordinal);
        Assert.Contains("Action: sync for repo: gentoo, returned code = 5", failed.Lines);
        Assert.Equal(before, ScenarioSwarm.Digest(stuck));
        Assert.Equal(swarm.PreviousVersion, await swarm.VerifiedVersionOfAsync(stuck));
        Assert.DoesNotContain(failed.Lines, l => l.StartsWith(">>> Synced", StringComparison.Ordinal));
    });

    private static async Task GitStoryAsync(ScenarioSwarm swarm, PortageRoot portage, Func<Func<Task<PortageRun>>, Task<PortageRun>> run)
    {
        var key = await TestSigningKey.SharedAsync();
        var served = Path.Combine(swarm.Work, "git-served");
        var upstream = Path.Combine(served, "gentoo");
        var firstVersion = swarm.Version.AddHours(1);
        var firstCommit = await GentooGitTree.CreateAsync(upstream, new GentooTreeOptions { Seed = 21, Files = 60, Timestamp = firstVersion }, key);
        var port = FreePort.Next();
        await using var daemon = LocalProcess.Start("git-daemon", "git",
            ["daemon", "--reuseaddr", "--export-all", $"--base-path={served}", "--listen=127.0.0.1", $"--port={port}", served], swarm.Logs);
        await Eventually.TrueAsync(() => Listening(port), "git daemon listening");
        try
        {
            var repo = await swarm.NewUserRepoAsync();
            portage.ReposConf($"""
                [gentoo]
                location = {repo}
                sync-type = ahm
                sync-uri = {swarm.CoordinatorUrl}
                sync-ahm-protocol = git
                sync-ahm-official = git://127.0.0.1:{port}/gentoo
                sync-openpgp-key-path = {swarm.KeyringFile}
                volatile = no
                """);
            var first = await run(() => portage.EmaintSyncAsync());
            Assert.True(first.ExitCode == 0, first.ToString());
            Assert.Contains(first.Lines, l => l.StartsWith($">>> Synced official mirror git://127.0.0.1:{port}/gentoo", StringComparison.Ordinal));
            Assert.Equal(firstCommit, await HeadAsync(repo));
            Assert.Equal([firstCommit], portage.RepoRevisions["gentoo"]);

            var secondVersion = firstVersion.AddHours(1);
            await GentooTree.NextVersionAsync(upstream, seed: 22, changes: 6, secondVersion, key: null);
            var secondCommit = await GentooGitTree.CommitAsync(upstream, key, secondVersion, "Next version");
            var second = await run(() => portage.EmergeSyncAsync());
            Assert.True(second.ExitCode == 0, second.ToString());
            Assert.Contains(second.Lines, l => l.StartsWith($">>> Verified version {SyncRun.VersionText(secondVersion)}", StringComparison.Ordinal));
            Assert.Equal(secondCommit, await HeadAsync(repo));
            Assert.Equal([secondCommit, firstCommit], portage.RepoRevisions["gentoo"]);
            Assert.All(portage.AhmSyncCalls.TakeLast(2), c => Assert.Contains("--protocol git", c, StringComparison.Ordinal));
        }
        finally
        {
            await daemon.StopAsync();
        }
    }

    /// <summary>Portage's own view of an rsync tree: metadata/timestamp.chk and the top Manifest's TIMESTAMP are the upstream's.</summary>
    private static void AssertPortageSees(string repo, string upstream, DateTimeOffset version)
    {
        Assert.Equal(File.ReadAllText(Path.Combine(upstream, "metadata", "timestamp.chk")), File.ReadAllText(Path.Combine(repo, "metadata", "timestamp.chk")));
        Assert.Contains($"TIMESTAMP {SyncRun.VersionText(version)}", File.ReadAllText(Path.Combine(repo, "Manifest")), StringComparison.Ordinal);
    }

    private static string RsyncSection(string repo, ScenarioSwarm swarm) => $"""
        [gentoo]
        location = {repo}
        sync-type = ahm
        sync-uri = {swarm.CoordinatorUrl}
        sync-ahm-protocol = rsync
        sync-ahm-official = {swarm.OfficialUri}
        sync-openpgp-key-path = {swarm.KeyringFile}
        auto-sync = yes
        """;

    private static async Task<string> IdAsync(string what, string user) =>
        (await ExternalProcess.RunAsync("id", [what, user])).EnsureSuccess("id").Stdout.Trim();

    private static async Task<string> StatOwnerAsync(string path) =>
        (await ExternalProcess.RunAsync("stat", ["-c", "%u", path])).EnsureSuccess("stat").Stdout.Trim();

    private static async Task<string> HeadAsync(string repo) =>
        (await ExternalProcess.RunAsync("git", ["-C", repo, "rev-parse", "HEAD"])).EnsureSuccess("git rev-parse").Stdout.Trim();

    private static bool Listening(int port)
    {
        using var client = new TcpClient();
        try
        {
            client.Connect("127.0.0.1", port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
