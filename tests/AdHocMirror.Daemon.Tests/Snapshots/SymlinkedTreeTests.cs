using System.Globalization;
using AdHocMirror.Daemon.Tests.Support;
using AdHocMirror.Testing;
using AdHocMirror.Testing.Trees;
using AdHocMirror.Tree.Manifests;
using AdHocMirror.Tree.OpenPgp;
using AdHocMirror.Tree.Rsync;

namespace AdHocMirror.Daemon.Tests.Snapshots;

/// <summary>A gemato-signed tree with directory symlinks (as GURU's dev-lang/swift/files has) is published and served with its links.</summary>
public sealed class SymlinkedTreeTests
{
    [ConformanceFact]
    public async Task A_tree_with_directory_symlinks_is_published_and_clients_receive_the_links()
    {
        await using var world = await MirrorWorld.StartAsync(new() { ["protocols"] = "rsync" }, startDaemon: false);
        Directory.Delete(world.Upstream.RsyncTree, recursive: true);
        await DirlinksFixture.CopyAsync(world.Upstream.RsyncTree);
        await world.UseKeyringAsync(DirlinksFixture.File("test-key.pub.asc"));
        await world.StartDaemonAsync();
        await world.OnlineAsync(DateTimeOffset.Parse(DirlinksFixture.Timestamp, CultureInfo.InvariantCulture));

        // A client with portage's own rsync options (--links --safe-links) from the daemon's module (munge symlinks on).
        var client = Path.Combine(world.Root, "client");
        Directory.CreateDirectory(client);
        (await ExternalProcess.RunAsync("rsync", PortageRsync.Arguments(world.Options.RsyncUri, client, null))).EnsureSuccess("rsync");
        foreach (var (name, target) in DirlinksFixture.Links)
        {
            Assert.Equal(target, new FileInfo(Path.Combine(client, DirlinksFixture.Files, name)).LinkTarget);
        }

        await using var keyring = await OpenPgpKeyring.OpenAsync(DirlinksFixture.File("test-key.pub.asc"));
        var verified = await new ManifestTreeVerifier().VerifyAsync(client, keyring);
        Assert.True(verified.Succeeded, verified.Summary);
    }
}
