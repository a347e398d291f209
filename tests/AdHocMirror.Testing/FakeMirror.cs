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

    /// <summary>The secret it answers with for a session it was not given (<see cref="Accept"/>); null answers with a
    /// random proof. Only an impostor (<see cref="Forges"/>) uses it at once.</summary>
    public string? SessionSecret { get; set; }

    /// <summary>Answers a ping for a session it was not given at once, with <see cref="SessionSecret"/> or a random
    /// proof (an impostor). Otherwise such a ping waits for the session: the coordinator pings at once after a
    /// login, often before the test has read the reply.</summary>
    public bool Forges { get; init; }

    /// <summary>How long a ping waits for its session's secret before it is answered with a forged proof.</summary>
    public TimeSpan SecretWait { get; init; } = TimeSpan.FromSeconds(20);

    public uint ActiveConnections { get; set; }

    public List<TreeVersion> Versions { get; } = [];

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> _secrets = new(StringComparer.Ordinal);
    private TaskCompletionSource _secretSet = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _pings;
    private int _inFlight;
    private int _maxInFlight;

    public int Pings => Volatile.Read(ref _pings);

    /// <summary>Most pings this mirror was answering at once.</summary>
    public int MaxInFlight => Volatile.Read(ref _maxInFlight);

    /// <summary>How long each answer takes (real time), to make concurrency visible.</summary>
    public TimeSpan AnswerDelay { get; set; }

    /// <summary>Lets one fake answer for many sessions (many mirrors behind one ping address).</summary>
    public void AddSession(string sessionId, string secret)
    {
        _secrets[sessionId] = secret;
        SignalSecret();
    }

    /// <summary>Answers the session a login reply opened with its secret.</summary>
    public void Accept(LoginReply login) => AddSession(login.SessionId, login.SessionSecret);

    private void SignalSecret() =>
        Interlocked.Exchange(ref _secretSet, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    private async Task<string?> AwaitSecretAsync(string sessionId, CancellationToken cancel)
    {
        var deadline = DateTime.UtcNow + SecretWait;
        while (true)
        {
            var signal = Volatile.Read(ref _secretSet).Task;
            if (_secrets.TryGetValue(sessionId, out var known))
            {
                return known;
            }

            var left = deadline - DateTime.UtcNow;
            if (Forges || left <= TimeSpan.Zero)
            {
                return SessionSecret;
            }

            try
            {
                await signal.WaitAsync(left, cancel);
            }
            catch (TimeoutException)
            {
                return SessionSecret;
            }
        }
    }

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

        var proof = await AwaitSecretAsync(request.SessionId, context.CancellationToken) is { } secret
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
