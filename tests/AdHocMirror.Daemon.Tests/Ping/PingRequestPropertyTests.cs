using System.Security.Cryptography;
using AdHocMirror.Contracts;
using AdHocMirror.Contracts.V1;
using AdHocMirror.Daemon.Tests.Support;
using AdHocMirror.Testing;
using FsCheck;
using FsCheck.Fluent;
using Google.Protobuf;
using Grpc.Core;

namespace AdHocMirror.Daemon.Tests.Ping;

/// <summary>
/// The ping listener is open to anyone who can reach the volunteer's port: generated MirrorPing requests with
/// extreme nonces and session ids, sent over real gRPC to a running daemon, get a proof only for our session and
/// a well-formed nonce, otherwise a deliberate refusal with a short message that does not echo the input.
/// </summary>
public sealed class PingRequestPropertyTests
{
    private const int Cases = 150;

    [Fact]
    public async Task Any_ping_request_is_answered_with_a_valid_proof_or_refused_and_the_daemon_keeps_serving()
    {
        await using var world = await MirrorWorld.StartAsync(new() { ["protocols"] = "rsync" });
        await world.OnlineAsync(OfficialUpstream.FirstVersion);
        var session = world.State.Session!;
        using var channel = GrpcChannels.Create($"http://127.0.0.1:{world.Options.PingPort}");
        var ping = new MirrorPingClient(channel);

        var sessionIds = Gen.OneOf(
            Gen.Elements(
                session.Id, session.Id.ToUpperInvariant(), session.Id + " ", " " + session.Id, session.Id[..^1], string.Empty,
                new string('0', 32), "\u0000", "\u001b[2J\r\nFAKE", "😀", "\ud800", new string('x', 4_000), new string('é', 60_000)),
            ArbMap.Default.GeneratorFor<string>().Select(s => s ?? string.Empty));
        var nonces = Gen.OneOf(
            Gen.Elements(0, 1, 15, 16, 17, 32, 63, 64, 65, 1_000, 500_000).Select(RandomNumberGenerator.GetBytes),
            Gen.Choose(0, 80).Select(RandomNumberGenerator.GetBytes));
        var requests = from id in sessionIds from bytes in nonces select new PingRequest { SessionId = id, Nonce = ByteString.CopyFrom(bytes) };

        var failures = new List<string>();
        var property = Prop.ForAll(Arb.From(requests), request =>
        {
            var outcome = SendAsync(ping, request).GetAwaiter().GetResult();
            var expected = Expected(request, session.Id);
            var fine = outcome.Code == expected
                && outcome.Detail.Length <= 200
                && (request.SessionId.Length < 8 || !outcome.Detail.Contains(request.SessionId, StringComparison.Ordinal))
                && (expected != StatusCode.OK || PingProof.Verify(session.Secret, request.Nonce.Span, session.Id, outcome.Reply!.Proof.Span));
            if (!fine)
            {
                failures.Add($"{outcome.Code} (expected {expected}, {outcome.Detail.Length} characters: {InputText.Quote(outcome.Detail)}) for session id {InputText.Quote(request.SessionId)}, nonce of {request.Nonce.Length} bytes");
            }

            return fine;
        });
        Check.One(Config.Quick.WithMaxTest(Cases).WithQuietOnSuccess(true), property);
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(5)));

        // Still the same session, still answering the coordinator, still healthy.
        Assert.Same(session, world.State.Session);
        var nonce = RandomNumberGenerator.GetBytes(32);
        var reply = await ping.PingAsync(new PingRequest { Nonce = ByteString.CopyFrom(nonce), SessionId = session.Id });
        Assert.True(PingProof.Verify(session.Secret, nonce, session.Id, reply.Proof.Span));
        var health = await new HealthClient(channel).CheckAsync(new Grpc.Health.V1.HealthCheckRequest());
        Assert.Equal(Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus.Serving, health.Status);
    }

    /// <summary>What the daemon must answer: the request limit (64 KiB on the ping listener) first, then the session, then the nonce.</summary>
    private static StatusCode Expected(PingRequest request, string sessionId) =>
        request.CalculateSize() > 64 * 1024 ? StatusCode.ResourceExhausted
        : request.SessionId != sessionId ? StatusCode.FailedPrecondition
        : request.Nonce.Length is < 16 or > 64 ? StatusCode.InvalidArgument
        : StatusCode.OK;

    private static async Task<(StatusCode Code, string Detail, PingReply? Reply)> SendAsync(MirrorPingClient ping, PingRequest request)
    {
        try
        {
            var reply = await ping.PingAsync(request, deadline: DateTime.UtcNow.AddSeconds(30));
            return (StatusCode.OK, string.Empty, reply);
        }
        catch (RpcException e)
        {
            return (e.StatusCode, e.Status.Detail, null);
        }
    }
}
