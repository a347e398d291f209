using AdHocMirror.Hosting;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace AdHocMirror.Coordinator.Admin;

/// <summary>
/// Admin-token authentication, once for every ahm.v1.Admin call on the admin listener (health and reflection there
/// stay open, as on any gRPC server).
/// </summary>
public sealed class AdminTokenInterceptor(AdminToken token) : Interceptor
{
    private const string AdminMethods = "/ahm.v1.Admin/";

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        Authorize(context);
        return continuation(request, context);
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Authorize(context);
        return continuation(request, responseStream, context);
    }

    private void Authorize(ServerCallContext context)
    {
        if (!context.Method.StartsWith(AdminMethods, StringComparison.Ordinal))
        {
            return;
        }

        var presented = context.BearerToken();
        if (!token.Matches(presented))
        {
            throw new RpcException(new Status(StatusCode.Unauthenticated, presented is null
                ? "no admin token presented: send 'authorization: Bearer <token>'"
                : "wrong admin token"));
        }
    }
}
