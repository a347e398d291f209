using AdHocMirror.Sync.Tests.Support;
using AdHocMirror.Testing;
using AdHocMirror.Testing.Trees;
using AdHocMirror.Tree.Manifests;
using AdHocMirror.Tree.OpenPgp;
using AdHocMirror.Tree.Versions;

namespace AdHocMirror.Sync.Tests.Flow;

/// <summary>ahm-sync installs a tree with directory symlinks (an overlay such as GURU) and updates it on the fast path.</summary>
public sealed class SymlinkedTreeSyncTests
{
    [ConformanceFact]
    public async Task A_tree_with_directory_symlinks_is_installed_with_its_links_and_synced_again()
    {
        await using var world = await SyncWorld.CreateAsync(coordinator: false, officialTree: null);
        var served = await DirlinksFixture.CopyAsync(world.Dir.Combine("dirlinks"));
        // The module as ahm-daemon serves it (RsyncdConfig: munge symlinks on).
        var mirror = await world.ServeAsync("127.0.0.9", served, moduleSettings: ["munge symlinks = yes"]);
        string[] arguments = ["--no-coordinator", "--official", mirror.Uri, "--keyring", DirlinksFixture.File("test-key.pub.asc")];

        var first = await world.SyncAsync(arguments);
        Assert.True(first.ExitCode == 0, first.ToString());
        foreach (var (name, target) in DirlinksFixture.Links)
        {
            Assert.Equal(target, new FileInfo(Path.Combine(world.Repository, DirlinksFixture.Files, name)).LinkTarget);
        }

        // Again: the installed tree (links and all) is read as the current version, so this one is up to date.
        var again = await world.SyncAsync(arguments);
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Equal("up_to_date", again.Status);
        await using var keyring = await OpenPgpKeyring.OpenAsync(DirlinksFixture.File("test-key.pub.asc"));
        var installed = await new ManifestTreeVerifier().VerifyAsync(world.Repository, keyring);
        Assert.True(installed.Succeeded, installed.Summary);
        Assert.Equal(TreeVersion.FromManifestTimestamp(DirlinksFixture.Timestamp), installed.Version);
    }
}
