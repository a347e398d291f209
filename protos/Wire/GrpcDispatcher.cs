using System.Diagnostics;
using System.Net;
using Google.Protobuf;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.Extensions.Logging;

namespace AdHocMirror.Wire;

/// <summary>
/// The server half of gRPC over HTTP/2 (grpc/doc/PROTOCOL-HTTP2.md): checks the request,
/// finds the bound method, runs it under the caller's deadline and writes messages and status.
/// </summary>
internal sealed partial class GrpcDispatcher
{
    private readonly Dictionary<string, MethodHandler> _handlers = new(StringComparer.Ordinal);
    private readonly GrpcServerOptions _options;
    private readonly ILogger _logger;

    public GrpcDispatcher(IEnumerable<ServiceBinding> bindings, GrpcServerOptions options, ILogger logger)
    {
        foreach (var binding in bindings)
        {
            foreach (var (path, handler) in binding.Handlers)
            {
                _handlers.Add(path, handler);
            }
        }

        _options = options;
        _logger = logger;
    }

    /// <summary>
    /// gRPC by content type, or aimed at a bound method's path with another content type (so that it
    /// gets a clear 415 rather than falling through to the plain HTTP routes).
    /// </summary>
    public bool Accepts(HttpContext context) =>
        (context.Request.ContentType is { } type && type.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase))
        || (context.Request.Path.Value is { } path && _handlers.ContainsKey(path));

    public async Task HandleAsync(HttpContext http)
    {
        var request = http.Request;
        if (!HttpMethods.IsPost(request.Method))
        {
            await RejectAsync(http, StatusCodes.Status405MethodNotAllowed, StatusCode.Internal, $"Method '{request.Method}' is not supported; gRPC uses POST.");
            return;
        }

        if (!HttpProtocol.IsHttp2(request.Protocol))
        {
            await RejectAsync(http, StatusCodes.Status426UpgradeRequired, StatusCode.Internal, $"Request protocol '{request.Protocol}' is not supported; gRPC needs HTTP/2.");
            return;
        }

        var contentType = request.ContentType;
        if (contentType is null || !IsGrpcContentType(contentType))
        {
            await RejectAsync(http, StatusCodes.Status415UnsupportedMediaType, StatusCode.Internal, $"Content-Type '{contentType}' is not supported.");
            return;
        }

        var path = request.Path.Value ?? string.Empty;
        if (!_handlers.TryGetValue(path, out var handler))
        {
            WriteTrailersOnly(http, StatusCode.Unimplemented, $"Method is unimplemented: {path}", null);
            return;
        }

        var encoding = request.Headers[MessageEncoding.Header].ToString();
        if (!MessageEncoding.CanDecode(encoding))
        {
            WriteTrailersOnly(http, StatusCode.Unimplemented, $"Message encoding '{encoding}' is not supported; supported: {MessageEncoding.Accepted}", null);
            return;
        }

        TimeSpan? timeout = null;
        var timeoutHeader = request.Headers[GrpcTimeout.Header].ToString();
        if (timeoutHeader.Length > 0)
        {
            if (!GrpcTimeout.TryParse(timeoutHeader, out var parsed))
            {
                WriteTrailersOnly(http, StatusCode.Internal, $"Invalid grpc-timeout '{timeoutHeader}'.", null);
                return;
            }

            timeout = parsed;
        }

        // gRPC bodies are long-lived streams of frames: Kestrel's HTTP limits for uploads do not apply.
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            sizeFeature.MaxRequestBodySize = null;
        }

        if (http.Features.Get<IHttpMinRequestBodyDataRateFeature>() is { } rateFeature)
        {
            rateFeature.MinDataRate = null;
        }

        using var call = new ServerCall(http, _options, encoding.Length == 0 ? null : encoding, timeout, ReadMetadata(request.Headers), path);
        try
        {
            var work = handler switch
            {
                IServerCallHandler h => h.HandleAsync(call),
                _ => throw new UnreachableException(),
            };
            if (call.DeadlineTask is { } deadline)
            {
                var first = await Task.WhenAny(work, deadline);
                if (first != work)
                {
                    await call.FinishWithDeadlineAsync();
                }
            }

            await work;
            call.FinishOk();
        }
        catch (RpcException e)
        {
            call.Finish(e.Code, e.Detail, e.Trailers);
        }
        catch (OperationCanceledException) when (call.DeadlineReached)
        {
            call.Finish(StatusCode.DeadlineExceeded, "Deadline Exceeded", null);
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            call.Finish(StatusCode.Cancelled, "Call cancelled by the client", null);
        }
        catch (Exception) when (http.RequestAborted.IsCancellationRequested)
        {
            call.Finish(StatusCode.Cancelled, "Call cancelled by the client", null);
        }
        catch (Exception e)
        {
            LogHandlerFailed(_logger, path, e);
            call.Finish(StatusCode.Unknown, "Exception was thrown by handler.", null);
        }
    }

    private static bool IsGrpcContentType(string contentType)
    {
        // application/grpc, application/grpc+proto, application/grpc; charset=… — but not grpc-web.
        const string Prefix = "application/grpc";
        if (!contentType.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        if (contentType.Length == Prefix.Length)
        {
            return true;
        }

        var next = contentType[Prefix.Length];
        if (next == ';')
        {
            return true;
        }

        return next == '+' && contentType.AsSpan(Prefix.Length + 1).StartsWith("proto", StringComparison.OrdinalIgnoreCase);
    }

    private static Metadata ReadMetadata(IHeaderDictionary headers)
    {
        var metadata = new Metadata();
        foreach (var (name, values) in headers)
        {
            if (Metadata.IsReservedHeader(name) || name.Equals("user-agent", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            foreach (var value in values)
            {
                if (value is not null)
                {
                    metadata.AddFromWire(name, value);
                }
            }
        }

        return metadata;
    }

    private static async Task RejectAsync(HttpContext http, int httpStatus, StatusCode code, string message)
    {
        http.Response.StatusCode = httpStatus;
        http.Response.ContentType = "application/grpc";
        http.Response.Headers["grpc-status"] = ((int)code).ToString(System.Globalization.CultureInfo.InvariantCulture);
        http.Response.Headers["grpc-message"] = StatusMessage.Encode(message);
        await http.Response.CompleteAsync();
    }

    internal static void WriteTrailersOnly(HttpContext http, StatusCode code, string message, Metadata? trailers)
    {
        var headers = http.Response.Headers;
        http.Response.StatusCode = StatusCodes.Status200OK;
        headers.ContentType = "application/grpc";
        headers[MessageEncoding.AcceptHeader] = MessageEncoding.Accepted;
        AppendMetadata(headers, trailers);
        headers["grpc-status"] = ((int)code).ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (message.Length > 0)
        {
            headers["grpc-message"] = StatusMessage.Encode(message);
        }
    }

    internal static void AppendMetadata(IHeaderDictionary headers, Metadata? metadata)
    {
        if (metadata is null)
        {
            return;
        }

        foreach (var entry in metadata)
        {
            headers.Append(entry.Key, entry.WireValue);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "gRPC method {Method} failed with an unexpected exception")]
    private static partial void LogHandlerFailed(ILogger logger, string method, Exception exception);
}

internal interface IServerCallHandler
{
    Task HandleAsync(ServerCall call);
}

internal sealed partial class UnaryHandler<TRequest, TResponse> : IServerCallHandler
{
    public async Task HandleAsync(ServerCall call)
    {
        var request = await call.ReadSingleAsync(Method.RequestParser);
        var response = await Handler(request, call.Context);
        await call.WriteAsync(response);
    }
}

internal sealed partial class ServerStreamingHandler<TRequest, TResponse> : IServerCallHandler
{
    public async Task HandleAsync(ServerCall call)
    {
        var request = await call.ReadSingleAsync(Method.RequestParser);
        await Handler(request, new StreamWriter(call), call.Context);
    }

    private sealed class StreamWriter(ServerCall call) : IServerStreamWriter<TResponse>
    {
        public Task WriteAsync(TResponse message, CancellationToken cancellationToken = default) => call.WriteAsync(message);
    }
}
