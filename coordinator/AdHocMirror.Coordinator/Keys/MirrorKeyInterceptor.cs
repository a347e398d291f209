using AdHocMirror.Hosting;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.AspNetCore.Http;

namespace AdHocMirror.Coordinator.Keys;

/// <summary>
/// Mirror-key authentication, once for every method marked <see cref="MirrorKeyAttribute"/>: the key presented as
/// <c>authorization: Bearer KEY_ID.SECRET</c> is checked (and the caller's network against the blacklists) before the
/// method runs; a refusal carries its status and the <c>ahm-refusal</c> trailer. The method reads the key with
/// <see cref="MirrorKeyCalls.MirrorKey"/>.
/// </summary>
public sealed class MirrorKeyInterceptor(KeyRegistry keys) : Interceptor
{
    internal const string Slot = "ahm-mirror-key";

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        if (context.GetHttpContext().GetEndpoint()?.Metadata.GetMetadata<MirrorKeyAttribute>() is not null)
        {
            context.UserState[Slot] = keys.Authenticate(context.BearerToken(), context.PeerAddress());
        }

        return continuation(request, context);
    }
}

public static class MirrorKeyCalls
{
    /// <summary>The key <see cref="MirrorKeyInterceptor"/> checked for this call.</summary>
    public static MirrorKey MirrorKey(this ServerCallContext context) =>
        context.UserState.TryGetValue(MirrorKeyInterceptor.Slot, out var key) && key is MirrorKey checkedKey
            ? checkedKey
            : throw new InvalidOperationException($"{context.Method} is not marked [MirrorKey]: no key was checked");
}
