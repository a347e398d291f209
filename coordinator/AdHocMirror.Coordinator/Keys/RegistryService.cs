using AdHocMirror.Contracts.V1;
using AdHocMirror.Hosting;
using Grpc.Core;

namespace AdHocMirror.Coordinator.Keys;

/// <summary>ahm.v1.Registry at the edge: Register, RotateKey, RetireKey.</summary>
public sealed class RegistryService(KeyRegistry keys) : Registry.RegistryBase
{
    public const int MaxSoftwareLength = 200;

    public override Task<RegisterReply> Register(RegisterRequest request, ServerCallContext context)
    {
        if (request.Software.Length > MaxSoftwareLength)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"software is longer than {MaxSoftwareLength} characters"));
        }

        return keys.RegisterAsync(context.PeerAddress(), context.CancellationToken);
    }

    [MirrorKey]
    public override Task<RegisterReply> RotateKey(RotateKeyRequest request, ServerCallContext context) =>
        keys.RotateAsync(context.MirrorKey(), context.CancellationToken);

    [MirrorKey]
    public override async Task<RetireKeyReply> RetireKey(RetireKeyRequest request, ServerCallContext context)
    {
        await keys.RetireAsync(context.MirrorKey(), context.CancellationToken);
        return new RetireKeyReply();
    }
}
