using AdHocMirror.Testing;

namespace AdHocMirror.EndToEnd.Tests.Portage;

/// <summary>repos.conf checks of the ahm module as the real portage reports them: no swarm needed, nothing is synced.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class PortageConfigTests
{
    [PortageFact]
    public async Task Bad_protocol_is_refused_naming_the_key_and_unknown_keys_are_reported()
    {
        using var portage = await PortageRoot.CreateAsync();
        var repo = portage.RepositoryPath();
        Directory.CreateDirectory(Path.Combine(repo, "profiles"));
        await File.WriteAllTextAsync(Path.Combine(repo, "profiles", "repo_name"), "gentoo\n");
        var keyring = Path.Combine(portage.Root, "keys.asc");
        await File.WriteAllTextAsync(keyring, "placeholder");
        portage.ReposConf($"""
            [gentoo]
            location = {repo}
            sync-type = ahm
            sync-uri = http://127.0.0.1:{FreePort.Next()}
            sync-ahm-protocol = ftp
            sync-ahm-oficial = rsync://127.0.0.1:1/gentoo-portage
            sync-openpgp-key-path = {keyring}
            """);

        foreach (var run in new[] { await portage.EmaintSyncAsync(), await portage.EmergeSyncAsync() })
        {
            Assert.True(run.ExitCode != 0, run.ToString());
            Assert.Contains("!!! Repository 'gentoo': sync-ahm-protocol not one of: {rsync, git}: 'ftp'", run.Lines);
            Assert.Single(run.Lines, l => l.Contains("sync-ahm-protocol not one of", StringComparison.Ordinal));
            Assert.Contains(run.Lines, l => l.StartsWith("!!! Repository 'gentoo': unknown option 'sync-ahm-oficial' for sync-type = ahm", StringComparison.Ordinal));
            Assert.Contains("!!! Repository 'gentoo' not synced: fix the repos.conf settings named above", run.Lines);
            Assert.Contains("Action: sync for repo: gentoo, returned code = 2", run.Lines);
        }

        Assert.Empty(portage.AhmSyncCalls);
        Assert.Equal(["profiles"], Directory.EnumerateFileSystemEntries(repo).Select(Path.GetFileName));
    }

    [PortageFact]
    public async Task Sync_uri_must_be_the_coordinator_and_official_uris_must_match_the_protocol()
    {
        using var portage = await PortageRoot.CreateAsync();
        portage.ReposConf($"""
            [gentoo]
            location = {portage.RepositoryPath()}
            sync-type = ahm
            sync-uri = rsync://rsync.gentoo.org/gentoo-portage
            sync-ahm-protocol = git
            sync-ahm-official = rsync://rsync.gentoo.org/gentoo-portage
            sync-ahm-coordinator-trust = {Path.Combine(portage.Root, "missing-ca.pem")}
            """);

        var run = await portage.EmaintSyncAsync();

        Assert.True(run.ExitCode != 0, run.ToString());
        Assert.Contains(run.Lines, l => l.StartsWith("!!! Repository 'gentoo': sync-uri must be the coordinator's URL", StringComparison.Ordinal)
            && l.Contains("sync-ahm-official", StringComparison.Ordinal));
        Assert.Contains("!!! Repository 'gentoo': sync-ahm-official: 'rsync://rsync.gentoo.org/gentoo-portage' is not a git URI", run.Lines);
        Assert.Contains(run.Lines, l => l.StartsWith("!!! Repository 'gentoo': sync-ahm-coordinator-trust: certificate file", StringComparison.Ordinal));
        Assert.Empty(portage.AhmSyncCalls);
    }
}
