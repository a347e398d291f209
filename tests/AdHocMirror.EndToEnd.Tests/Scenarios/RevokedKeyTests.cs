using AdHocMirror.Contracts.V1;
using AdHocMirror.Testing;
using Xunit.Abstractions;

namespace AdHocMirror.EndToEnd.Tests.Scenarios;

/// <summary>
/// Staff revoke a volunteer's key (ahm-coordinator admin revoke). Its mirror leaves matching at once and the key shows
/// revoked. Per DESIGN.md ("re-registers when its key is refused") the daemon, refused, drops the key, registers a
/// new one and logs in again; clients are never sent to the revoked key's session, and once the new key is online
/// (verified by a ping) users are sent to the volunteer again.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class RevokedKeyTests(ITestOutputHelper output)
{
    [Fact]
    public Task RevokedKeyLeavesMatchingAndTheDaemonComesBackUnderANewKey() => ScenarioSwarm.RunAsync(new SwarmPlan
    {
        Volunteers =
        [
            new("revoked", 2, "Augsburg, DE", 48.37, 10.90),
            new("other", 3, "Zurich, CH", 47.37, 8.54),
        ],
    }, output, async swarm =>
    {
        var volunteer = swarm["revoked"];
        var other = swarm["other"];
        var oldKey = volunteer.KeyId;
        Assert.Contains((await swarm.FindAsync()).Candidates, c => c.MirrorId == oldKey);

        var revoke = await swarm.AdminCliRawAsync("revoke", oldKey, "--reason", "scenario: key leaked");
        Assert.True(revoke.ExitCode == 0, revoke.Stdout + revoke.Stderr);
        Assert.Contains("revoked", revoke.Stdout + revoke.Stderr, StringComparison.Ordinal);

        // From now on no answer names the revoked key, while the daemon notices and comes back under a new one.
        string? newKey = null;
        var offeredRevoked = 0;
        var answers = 0;
        await Eventually.TrueAsync(async () =>
        {
            var offered = await swarm.FindAsync();
            answers++;
            offeredRevoked += offered.Candidates.Count(c => c.MirrorId == oldKey);
            var now = await swarm.MirrorsAsync();
            newKey = now.FirstOrDefault(m => m.Endpoints.RsyncUri == volunteer.RsyncUri && m.KeyId != oldKey && m.State == MirrorState.Online)?.KeyId;
            return newKey is not null;
        }, "the daemon re-registered under a new key and is online", TimeSpan.FromSeconds(60));
        Assert.True(offeredRevoked == 0, $"the revoked key was offered {offeredRevoked} time(s) in {answers} answers");
        Assert.False(volunteer.Process.HasExited, "the daemon keeps serving");

        var keys = await swarm.AdminCliAsync(ListKeysReply.Parser, "keys", "--all");
        var revoked = keys.Keys.Single(k => k.KeyId == oldKey);
        Assert.Equal(KeyState.Revoked, revoked.State);
        Assert.Contains("key leaked", revoked.Reason, StringComparison.Ordinal);
        Assert.Equal(KeyState.Live, keys.Keys.Single(k => k.KeyId == newKey).State);
        Assert.Equal(KeyState.Live, keys.Keys.Single(k => k.KeyId == other.KeyId).State);

        var audit = await swarm.AdminCliAsync(ListAuditReply.Parser, "audit");
        Assert.Contains(audit.Entries, e => e.Action == "revoke" && e.Subject == oldKey && e.Actor == "admin");

        var mirrors = await swarm.AdminCliAsync(ListMirrorsReply.Parser, "mirrors");
        Assert.DoesNotContain(mirrors.Mirrors, m => m.KeyId == oldKey && m.State is MirrorState.Online or MirrorState.Pinging);
        Assert.Equal(MirrorState.Online, mirrors.Mirrors.Single(m => m.KeyId == newKey).State);

        var offered = await swarm.FindAsync();
        Assert.DoesNotContain(offered.Candidates, c => c.MirrorId == oldKey);
        Assert.Equal(newKey, offered.Candidates[0].MirrorId);

        var repo = await swarm.NewUserRepoAsync();
        var run = await swarm.SyncAsync(repo);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(volunteer.RsyncUri, run.Source);
        Assert.Equal(SyncRun.VersionText(swarm.Version), run.Version);
        Assert.Equal(swarm.Version, await swarm.VerifiedVersionOfAsync(repo));
    });
}
