using System.Net;
using Google.Protobuf;
using Microsoft.AspNetCore.Http;

namespace AdHocMirror.Wire;

/// <summary>
/// One call in progress on the server: reads the request message, writes responses and, exactly once,
/// the status. The deadline may end the call while the service is still running, so every write
/// to the HTTP response goes through one lock and stops once the status is out.
/// </summary>
internal sealed class ServerCall : IDisposable
{
    private readonly HttpContext _http;
    private readonly GrpcServerOptions _options;
    private readonly string? _encoding;
    private readonly CancellationTokenSource _cancellation;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly TaskCompletionSource? _deadline;
    private bool _headersSent;
    private bool _finished;

    public ServerCall(HttpContext http, GrpcServerOptions options, string? encoding, TimeSpan? timeout, Metadata metadata, string method)
    {
        _http = http;
        _options = options;
        _encoding = encoding;
        _cancellation = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
        DateTimeOffset? deadline = null;
        if (timeout is { } t)
        {
            var capped = t > TimeSpan.FromDays(30) ? TimeSpan.FromDays(30) : t;
            deadline = DateTimeOffset.UtcNow + capped;
            _deadline = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _cancellation.Token.Register(static state =>
            {
                var call = (ServerCall)state!;
                if (!call._http.RequestAborted.IsCancellationRequested)
                {
                    call.DeadlineReached = true;
                    call._deadline!.TrySetResult();
                }
            }, this);
            _cancellation.CancelAfter(capped);
        }

        var peer = http.Connection.RemoteIpAddress;
        if (peer is { IsIPv4MappedToIPv6: true })
        {
            peer = peer.MapToIPv4();
        }

        Context = new CallContext(method, metadata, peer, deadline, _cancellation.Token);
    }

    public CallContext Context { get; }

    public Task? DeadlineTask => _deadline?.Task;

    public bool DeadlineReached { get; private set; }

    public async Task<T> ReadSingleAsync<T>(MessageParser<T> parser)
        where T : class, IMessage<T>
    {
        var reader = _http.Request.BodyReader;
        var message = await MessageFraming.ReadAsync(reader, parser, _encoding, _options.MaxReceiveMessageSize, Context.CancellationToken)
            ?? throw new RpcException(StatusCode.Internal, "Request did not include a message.");
        var extra = await MessageFraming.ReadAsync(reader, parser, _encoding, _options.MaxReceiveMessageSize, Context.CancellationToken);
        if (extra is not null)
        {
            throw new RpcException(StatusCode.Internal, "Unary request included more than one message.");
        }

        return message;
    }

    public async Task WriteAsync(IMessage message)
    {
        await _writeLock.WaitAsync(Context.CancellationToken);
        try
        {
            if (_finished)
            {
                throw new RpcException(StatusCode.DeadlineExceeded, "The call has already ended.");
            }

            var response = _http.Response;
            if (!_headersSent)
            {
                response.StatusCode = StatusCodes.Status200OK;
                response.Headers.ContentType = "application/grpc";
                response.Headers[MessageEncoding.AcceptHeader] = MessageEncoding.Accepted;
                _headersSent = true;
            }

            MessageFraming.Write(response.BodyWriter, message, _options.MaxSendMessageSize);
            await response.BodyWriter.FlushAsync(Context.CancellationToken);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public void FinishOk() => Finish(StatusCode.OK, string.Empty, null);

    public void Finish(StatusCode code, string message, Metadata? trailers)
    {
        _writeLock.Wait();
        try
        {
            WriteStatus(code, message, trailers);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Sends DEADLINE_EXCEEDED now and ends the HTTP/2 stream, without waiting for the service.</summary>
    public async Task FinishWithDeadlineAsync()
    {
        await _writeLock.WaitAsync();
        try
        {
            if (WriteStatus(StatusCode.DeadlineExceeded, "Deadline Exceeded", null))
            {
                await _http.Response.CompleteAsync();
            }
        }
        catch (Exception) when (_http.RequestAborted.IsCancellationRequested)
        {
            // The client went away first; nobody is left to tell.
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private bool WriteStatus(StatusCode code, string message, Metadata? trailers)
    {
        if (_finished)
        {
            return false;
        }

        _finished = true;
        if (_http.RequestAborted.IsCancellationRequested)
        {
            return false;
        }

        var merged = Merge(Context.ResponseTrailers, trailers);
        if (!_headersSent)
        {
            GrpcDispatcher.WriteTrailersOnly(_http, code, message, merged);
            return true;
        }

        var response = _http.Response;
        foreach (var entry in merged)
        {
            response.AppendTrailer(entry.Key, entry.WireValue);
        }

        response.AppendTrailer("grpc-status", ((int)code).ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (message.Length > 0)
        {
            response.AppendTrailer("grpc-message", StatusMessage.Encode(message));
        }

        return true;
    }

    private static Metadata Merge(Metadata context, Metadata? extra)
    {
        if (extra is null || extra.Count == 0)
        {
            return context;
        }

        var merged = new Metadata();
        foreach (var entry in context)
        {
            AddEntry(merged, entry);
        }

        foreach (var entry in extra)
        {
            AddEntry(merged, entry);
        }

        return merged;
    }

    private static void AddEntry(Metadata target, Metadata.Entry entry)
    {
        if (entry.IsBinary)
        {
            target.Add(entry.Key, entry.ValueBytes!);
        }
        else
        {
            target.Add(entry.Key, entry.Value!);
        }
    }

    public void Dispose()
    {
        _cancellation.Dispose();
        _writeLock.Dispose();
    }
}
