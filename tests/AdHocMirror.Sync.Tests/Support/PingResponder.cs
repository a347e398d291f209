using System.Net;
using AdHocMirror.Contracts;
using AdHocMirror.Contracts.V1;
using AdHocMirror.Wire;
using Microsoft.Extensions.Logging.Abstractions;

namespace AdHocMirror.Sync.Tests.Support;

/// <summary>The liveness half of a mirror (as the coordinator tests' FakeMirror): answers MirrorPing with the session proof and its versions.</summary>
public sealed class PingResponder(IPAddress address) : IAsyncDisposable
{
    private GrpcServer? _server;

    public IPAddress Address { get; } = address;

    public int Port { get; private set; }

    public string? SessionSecret { get; set; }

    public List<TreeVersion> Versions { get; } = [];

    public async Task StartAsync()
    {
        var binding = new ServiceBinding(MirrorPingMethods.Service).Unary(MirrorPingMethods.Ping, PingAsync);
        _server = GrpcServer.Create([new GrpcListenEndpoint(new IPEndPoint(Address, 0))], [binding], new GrpcServerOptions(), NullLoggerFactory.Instance);
        await _server.StartAsync();
        Port = _server.Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
            _server = null;
        }
    }

    private Task<PingReply> PingAsync(PingRequest request, CallContext context)
    {
        var proof = SessionSecret is { } secret
            ? PingProof.Compute(secret, request.Nonce.Span, request.SessionId)
            : System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);
        var reply = new PingReply { Proof = Google.Protobuf.ByteString.CopyFrom(proof) };
        reply.Versions.AddRange(Versions);
        return Task.FromResult(reply);
    }
}
