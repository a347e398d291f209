using AdHocMirror.Contracts;
using AdHocMirror.Contracts.V1;
using AdHocMirror.Wire;

namespace AdHocMirror.Coordinator.Keys;

/// <summary>The Registry gRPC service: Register, RotateKey, RetireKey.</summary>
public sealed class RegistryService(KeyRegistry keys)
{
    public ServiceBinding Bind() => new ServiceBinding(RegistryMethods.Service)
        .Unary(RegistryMethods.Register, RegisterAsync)
        .Unary(RegistryMethods.RotateKey, RotateKeyAsync)
        .Unary(RegistryMethods.RetireKey, RetireKeyAsync);

    public Task<RegisterReply> RegisterAsync(RegisterRequest request, CallContext context)
    {
        if (request.Software.Length > 200)
        {
            throw new RpcException(StatusCode.InvalidArgument, "software is longer than 200 characters");
        }

        return keys.RegisterAsync(context.Peer, context.CancellationToken);
    }

    public Task<RegisterReply> RotateKeyAsync(RotateKeyRequest request, CallContext context) =>
        keys.RotateAsync(keys.Authenticate(context), context.CancellationToken);

    public async Task<RetireKeyReply> RetireKeyAsync(RetireKeyRequest request, CallContext context)
    {
        await keys.RetireAsync(keys.Authenticate(context), context.CancellationToken);
        return new RetireKeyReply();
    }
}
