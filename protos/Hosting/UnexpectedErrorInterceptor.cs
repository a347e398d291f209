using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Logging;

namespace AdHocMirror.Hosting;

/// <summary>
/// The one place an exception the domain did not mean as an answer becomes a status: INTERNAL with a fixed message
/// (nothing of the exception reaches the caller), logged once with its stack. Deliberate refusals are
/// <see cref="RpcException"/>s and pass through; a caller that went away is not an error.
/// </summary>
public sealed partial class UnexpectedErrorInterceptor(ILogger<UnexpectedErrorInterceptor> logger) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context);
        }
        catch (Exception e) when (Translate(e, context) is { } status)
        {
            throw status;
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(request, responseStream, context);
        }
        catch (Exception e) when (Translate(e, context) is { } status)
        {
            throw status;
        }
    }

    private RpcException? Translate(Exception e, ServerCallContext context)
    {
        if (e is RpcException)
        {
            return null;
        }

        if (e is OperationCanceledException && context.CancellationToken.IsCancellationRequested)
        {
            return new RpcException(new Status(StatusCode.Cancelled, "call ended by the caller or its deadline"));
        }

        LogUnexpected(logger, context.Method, e);
        return new RpcException(new Status(StatusCode.Internal, "internal error"));
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "{Method} failed unexpectedly")]
    private static partial void LogUnexpected(ILogger logger, string method, Exception exception);
}
