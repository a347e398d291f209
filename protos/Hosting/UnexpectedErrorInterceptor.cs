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

        // A call torn down by its deadline or its caller can fail anywhere (grpc-dotnet races a deadline against a
        // write in progress): that is the deadline's doing, not a fault of ours, and anyone can cause it at will.
        if (context.CancellationToken.IsCancellationRequested)
        {
            LogEndedByCaller(logger, context.Method, e.GetType().Name);
            return context.Deadline <= DateTime.UtcNow
                ? new RpcException(new Status(StatusCode.DeadlineExceeded, "deadline exceeded"))
                : new RpcException(new Status(StatusCode.Cancelled, "call cancelled"));
        }

        LogUnexpected(logger, context.Method, e);
        return new RpcException(new Status(StatusCode.Internal, "internal error"));
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Method} ended by its caller or deadline ({Exception})")]
    private static partial void LogEndedByCaller(ILogger logger, string method, string exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Method} failed unexpectedly")]
    private static partial void LogUnexpected(ILogger logger, string method, Exception exception);
}
