using System.Security.Cryptography;
using AdHocMirror.Contracts;
using AdHocMirror.Contracts.V1;
using AdHocMirror.Daemon.Enrolment;
using AdHocMirror.Daemon.Status;
using AdHocMirror.Daemon.Tests.Support;
using AdHocMirror.Testing;
using AdHocMirror.Tree.Manifests;
using AdHocMirror.Tree.OpenPgp;
using AdHocMirror.Tree.Rsync;
using Grpc.Core;
using Google.Protobuf;

namespace AdHocMirror.Daemon.Tests.Session;

/// <summary>The daemon between a real coordinator and a real upstream: enrol, sync, verify, publish, log in, get pinged, serve.</summary>
public sealed class MirrorLifecycleTests
{
    [Fact]
    public async Task Enrols_publishes_a_verified_snapshot_goes_online_and_serves_rsync_and_git()
    {
        await using var world = await MirrorWorld.StartAsync();
        var mirror = await world.OnlineAsync(OfficialUpstream.FirstVersion);

        // Enrolled: the key is kept private in the state directory.
        var key = new KeyFile(world.Options.KeyFile).Load();
        Assert.NotNull(key);
        Assert.Equal(mirror.KeyId, key.KeyId);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(world.Options.KeyFile));
        Assert.Equal(world.Options.RsyncUri, mirror.Endpoints.RsyncUri);
        Assert.Equal(world.Options.GitUri, mirror.Endpoints.GitUri);
        Assert.Contains(mirror.Versions, v => v.Protocol == AdHocMirror.Contracts.V1.Protocol.Git && v.Commit == world.Upstream.GitHead);

        // A stock rsync client with portage's options gets a tree that verifies.
        var client = Path.Combine(world.Root, "client-rsync");
        Directory.CreateDirectory(client);
        (await ExternalProcess.RunAsync("rsync", PortageRsync.Arguments(world.Options.RsyncUri, client, null))).EnsureSuccess("rsync from the mirror");
        await using (var keyring = await OpenPgpKeyring.OpenAsync(world.Upstream.Key.PublicKeyFile))
        {
            var verification = await new ManifestTreeVerifier().VerifyAsync(client, keyring);
            Assert.True(verification.Succeeded, verification.Summary);
            Assert.Equal(OfficialUpstream.FirstVersion, verification.Version.Generated);
        }

        // A stock shallow git clone gets the signed head.
        var clone = Path.Combine(world.Root, "client-git");
        (await ExternalProcess.RunAsync("git", ["clone", "--quiet", "--depth", "1", world.Options.GitUri, clone])).EnsureSuccess("git clone --depth 1");
        Assert.Equal(world.Upstream.GitHead, (await ExternalProcess.RunAsync("git", ["-C", clone, "rev-parse", "HEAD"])).Stdout.Trim());

        // The ping listener proves the session with the HMAC of ping.proto, and only for our session.
        using (var channel = GrpcChannels.Create($"http://127.0.0.1:{world.Options.PingPort}"))
        {
            var ping = new MirrorPingClient(channel);
            var session = world.State.Session!;
            var nonce = RandomNumberGenerator.GetBytes(32);
            var reply = await ping.PingAsync(new PingRequest { Nonce = ByteString.CopyFrom(nonce), SessionId = session.Id });
            Assert.True(PingProof.Verify(session.Secret, nonce, session.Id, reply.Proof.Span));
            Assert.Equal(2, reply.Versions.Count);
            var stranger = await Assert.ThrowsAsync<RpcException>(() => ping.PingAsync(new PingRequest { Nonce = ByteString.CopyFrom(nonce), SessionId = new string('0', 32) }).ResponseAsync);
            Assert.Equal(StatusCode.FailedPrecondition, stranger.StatusCode);
            var health = await new HealthClient(channel).CheckAsync(new Grpc.Health.V1.HealthCheckRequest());
            Assert.Equal(Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus.Serving, health.Status);
        }

        // The status file tells the volunteer what is going on.
        await Eventually.TrueAsync(() => StatusFile.Read(world.Options.StatusFile) is { Session: "online", Rsync.Serving: true, Git.Serving: true } s
            && s.KeyId == key.KeyId && s.Pings > 0 && s.Rsync.Version == OfficialUpstream.FirstVersion, "status file shows the mirror online");
    }

    [Fact]
    public async Task Is_found_through_the_coordinator_and_a_peer_with_upstream_coordinator_syncs_from_it()
    {
        await using var world = await MirrorWorld.StartAsync(new() { ["protocols"] = "rsync" });
        var mirror = await world.OnlineAsync(OfficialUpstream.FirstVersion);

        // A client with an older tree is sent to this mirror.
        using (var channel = GrpcChannels.Create(world.Coordinator.Url))
        {
            var matching = new MatchingClient(channel);
            var found = await matching.FindMirrorAsync(new FindMirrorRequest
            {
                Protocol = Protocol.Rsync,
                Current = new AdHocMirror.Tree.Versions.TreeVersion(OfficialUpstream.FirstVersion.AddDays(-1)).ToContract(Protocol.Rsync),
                Count = 3,
            });
            Assert.Contains(found.Candidates, c => c.Uri == world.Options.RsyncUri);
            foreach (var candidate in found.Candidates)
            {
                await matching.ReportSyncAsync(new ReportSyncRequest { LeaseId = candidate.LeaseId, Outcome = SyncOutcome.Abandoned });
            }
        }

        // A second volunteer fetches from the first through the coordinator, verifies, and serves too.
        var (peer, options, log) = await world.StartPeerAsync(new() { ["protocols"] = "rsync", ["upstream"] = "coordinator" });
        await Eventually.TrueAsync(async () => (await world.Coordinator.Admin.ListMirrorsAsync(new ListMirrorsRequest())).Mirrors
            .Any(m => m.KeyId != mirror.KeyId && m.State == AdHocMirror.Contracts.V1.MirrorState.Online && m.Endpoints.RsyncUri == options.RsyncUri
                && m.Versions.Single().Generated.ToDateTimeOffset() == OfficialUpstream.FirstVersion),
            $"the peer is online with the tree it got from the first mirror (log: {string.Join(" | ", log.Lines.TakeLast(6))})");
        Assert.True(log.Contains("Syncing Rsync from " + world.Options.RsyncUri));

        // Next round: nobody is newer, which is no failure.
        var peerState = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<AdHocMirror.Daemon.Status.MirrorState>(peer.Services);
        await Eventually.TrueAsync(() => peerState.Status.Rsync?.LastSyncResult == "up to date", "the peer finds itself up to date");
        Assert.Equal(0, peerState.Status.Rsync!.Failures);
    }
}
