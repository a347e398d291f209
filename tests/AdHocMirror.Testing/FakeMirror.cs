using System.Net;
using AdHocMirror.Contracts;
using AdHocMirror.Contracts.V1;
using AdHocMirror.Hosting;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace AdHocMirror.Testing;

/// <summary>The daemon side of liveness: a real MirrorPing gRPC server on loopback that can be stopped and started on the same port.</summary>
public sealed class FakeMirror(IPAddress? address = null) : IAsyncDisposable
{
    private GrpcServer? _server;

    /// <summary>The loopback address it answers on (127.0.0.x stands for different hosts).</summary>
    public IPAddress Address { get; } = address ?? IPAddress.Loopback;

    public int Port { get; private set; }

    /// <summary>The session secret from LoginReply; null answers with a forged proof.</summary>
    public string? SessionSecret { get; set; }

    public uint ActiveConnections { get; set; }

    public List<TreeVersion> Versions { get; } = [];

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> _secrets = new(StringComparer.Ordinal);
    private int _pings;
    private int _inFlight;
    private int _maxInFlight;

    public int Pings => Volatile.Read(ref _pings);

    /// <summary>Most pings this mirror was answering at once.</summary>
    public int MaxInFlight => Volatile.Read(ref _maxInFlight);

    /// <summary>How long each answer takes (real time), to make concurrency visible.</summary>
    public TimeSpan AnswerDelay { get; set; }

    /// <summary>Lets one fake answer for many sessions (many mirrors behind one ping address).</summary>
    public void AddSession(string sessionId, string secret) => _secrets[sessionId] = secret;

    public async Task StartAsync()
    {
        var service = new PingAnswers(this);
        _server = GrpcServer.Create(
            [new GrpcEndpoint(new IPEndPoint(Address, Port))],
            GrpcServerLimits.PingListener,
            NullLoggerFactory.Instance,
            new Readiness(),
            s => s.AddSingleton(service),
            routes => routes.MapGrpcService<PingAnswers>());
        await _server.StartAsync();
        Port = _server.Port;
    }

    public async Task StopAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
            _server = null;
        }
    }

    public ValueTask DisposeAsync() => new(StopAsync());

    private async Task<PingReply> PingAsync(PingRequest request, ServerCallContext context)
    {
        Interlocked.Increment(ref _pings);
        var now = Interlocked.Increment(ref _inFlight);
        int max;
        while (now > (max = Volatile.Read(ref _maxInFlight)) && Interlocked.CompareExchange(ref _maxInFlight, now, max) != max)
        {
        }

        try
        {
            if (AnswerDelay > TimeSpan.Zero)
            {
                await Task.Delay(AnswerDelay, context.CancellationToken);
            }
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }

        var proof = (_secrets.TryGetValue(request.SessionId, out var known) ? known : SessionSecret) is { } secret
            ? PingProof.Compute(secret, request.Nonce.Span, request.SessionId)
            : System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);
        var reply = new PingReply { Proof = Google.Protobuf.ByteString.CopyFrom(proof), ActiveConnections = ActiveConnections };
        reply.Versions.AddRange(Versions);
        return reply;
    }

    private sealed class PingAnswers(FakeMirror mirror) : MirrorPing.MirrorPingBase
    {
        public override Task<PingReply> Ping(PingRequest request, ServerCallContext context) => mirror.PingAsync(request, context);
    }
}
