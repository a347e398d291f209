using System.IO.Pipelines;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Runtime.CompilerServices;
using System.Security.Cryptography.X509Certificates;
using Google.Protobuf;

namespace AdHocMirror.Wire;

/// <summary>
/// The client half of gRPC over HTTP/2, on <see cref="HttpClient"/>. <c>http://</c> addresses use
/// cleartext h2c with prior knowledge, <c>https://</c> addresses TLS with ALPN h2. Thread-safe;
/// keep one per target and share it.
/// </summary>
public sealed class GrpcChannel : IDisposable
{
    private static readonly MediaTypeHeaderValue GrpcContentType = new("application/grpc");
    private static readonly Metadata EmptyMetadata = new();
    private readonly HttpClient _client;
    private readonly GrpcChannelOptions _options;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Uri> _methodUris = new(StringComparer.Ordinal);

    private GrpcChannel(Uri address, HttpMessageHandler handler, GrpcChannelOptions options)
    {
        Address = address;
        _options = options;
        _client = new HttpClient(handler, disposeHandler: true)
        {
            // Deadlines are per call; the client-wide timeout would cut streams short.
            Timeout = Timeout.InfiniteTimeSpan,
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        // The same on every call: set once rather than parsed into each request.
        _client.DefaultRequestHeaders.TE.ParseAdd("trailers");
        _client.DefaultRequestHeaders.TryAddWithoutValidation("user-agent", options.UserAgent);
        _client.DefaultRequestHeaders.TryAddWithoutValidation(MessageEncoding.AcceptHeader, MessageEncoding.Accepted);
    }

    public Uri Address { get; }

    /// <summary>Accepts <c>http://host:port</c>, <c>https://host:port</c>, or a bare <c>host:port</c> (cleartext).</summary>
    public static GrpcChannel ForAddress(string address, GrpcChannelOptions? options = null)
    {
        options ??= new GrpcChannelOptions();
        if (!address.Contains("://", StringComparison.Ordinal))
        {
            address = "http://" + address;
        }

        if (!Uri.TryCreate(address, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"'{address}' is not a gRPC address (http://HOST:PORT or https://HOST:PORT).", nameof(address));
        }

        var handler = new SocketsHttpHandler
        {
            EnableMultipleHttp2Connections = true,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            KeepAlivePingDelay = TimeSpan.FromSeconds(60),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(20),
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
            ConnectTimeout = options.ConnectTimeout,
            AutomaticDecompression = DecompressionMethods.None,
            UseProxy = false,
        };
        if (options.LocalAddress is { } local)
        {
            handler.ConnectCallback = (context, cancellationToken) => ConnectFromAsync(local, context.DnsEndPoint, cancellationToken);
        }

        if (options.TrustedCertificatesFile is { } trustFile)
        {
            var trusted = new X509Certificate2Collection();
            trusted.ImportFromPemFile(trustFile);
            handler.SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, errors) => IsTrusted(certificate, errors, trusted),
            };
        }

        return new GrpcChannel(new Uri(uri.GetLeftPart(UriPartial.Authority)), handler, options);
    }

    public async Task<TResponse> UnaryAsync<TRequest, TResponse>(Method<TRequest, TResponse> method, TRequest request, CallOptions options = default)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>, new() =>
        (await UnaryCoreAsync(method, request, options, withMetadata: false).ConfigureAwait(false)).Message;

    /// <summary>A unary call that also returns the response headers and trailers.</summary>
    public Task<GrpcResponse<TResponse>> UnaryCallAsync<TRequest, TResponse>(Method<TRequest, TResponse> method, TRequest request, CallOptions options = default)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>, new() =>
        UnaryCoreAsync(method, request, options, withMetadata: true);

    private async Task<GrpcResponse<TResponse>> UnaryCoreAsync<TRequest, TResponse>(Method<TRequest, TResponse> method, TRequest request, CallOptions options, bool withMetadata)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>, new()
    {
        using var call = await StartAsync(method, request, options).ConfigureAwait(false);
        var message = await call.ReadAsync(method.ResponseParser).ConfigureAwait(false);
        if (message is null)
        {
            await call.ReadStatusAsync().ConfigureAwait(false);
            throw new RpcException(StatusCode.Internal, "The server ended a unary call with OK but sent no message.");
        }

        if (await call.ReadAsync(method.ResponseParser).ConfigureAwait(false) is not null)
        {
            throw new RpcException(StatusCode.Internal, "The server sent more than one message for a unary call.");
        }

        var trailers = await call.ReadStatusAsync(withMetadata).ConfigureAwait(false);
        return new GrpcResponse<TResponse>(message, withMetadata ? call.ReadHeaders() : EmptyMetadata, trailers);
    }

    public async IAsyncEnumerable<TResponse> ServerStreamingAsync<TRequest, TResponse>(
        Method<TRequest, TResponse> method, TRequest request, CallOptions options = default)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>, new()
    {
        using var call = await StartAsync(method, request, options).ConfigureAwait(false);
        while (await call.ReadAsync(method.ResponseParser).ConfigureAwait(false) is { } message)
        {
            yield return message;
        }

        await call.ReadStatusAsync().ConfigureAwait(false);
    }

    private async Task<ClientCall> StartAsync<TRequest, TResponse>(Method<TRequest, TResponse> method, TRequest request, CallOptions options)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>, new()
    {
        options.CancellationToken.ThrowIfCancellationRequested();
        TimeSpan? timeout = null;
        if (options.Deadline is { } deadline)
        {
            timeout = deadline - DateTimeOffset.UtcNow;
            if (timeout <= TimeSpan.Zero)
            {
                throw new RpcException(StatusCode.DeadlineExceeded, "Deadline Exceeded before the call started");
            }
        }

        var uri = _methodUris.GetOrAdd(method.Path, static (path, address) => new Uri(address, path), Address);
        var message = new HttpRequestMessage(HttpMethod.Post, uri)
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        var headers = message.Headers;
        if (timeout is { } t)
        {
            headers.TryAddWithoutValidation(GrpcTimeout.Header, GrpcTimeout.Format(t));
        }

        if (options.Headers is { } metadata)
        {
            foreach (var entry in metadata)
            {
                headers.TryAddWithoutValidation(entry.Key, entry.WireValue);
            }
        }

        var content = new ByteArrayContent(MessageFraming.ToFrame(request, _options.MaxSendMessageSize));
        content.Headers.ContentType = GrpcContentType;
        message.Content = content;

        var call = new ClientCall(message, timeout, _options.MaxReceiveMessageSize, options.CancellationToken);
        try
        {
            await call.SendAsync(_client).ConfigureAwait(false);
            return call;
        }
        catch
        {
            call.Dispose();
            throw;
        }
    }

    private static async ValueTask<Stream> ConnectFromAsync(IPAddress local, DnsEndPoint target, CancellationToken cancellationToken)
    {
        var socket = new System.Net.Sockets.Socket(local.AddressFamily, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { NoDelay = true };
        try
        {
            socket.Bind(new IPEndPoint(local, 0));
            await socket.ConnectAsync(target, cancellationToken).ConfigureAwait(false);
            return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static bool IsTrusted(X509Certificate? certificate, SslPolicyErrors errors, X509Certificate2Collection trusted)
    {
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }

        if (certificate is null || (errors & SslPolicyErrors.RemoteCertificateNotAvailable) != 0)
        {
            return false;
        }

        using var leaf = new X509Certificate2(certificate);
        foreach (var candidate in trusted)
        {
            if (candidate.RawDataMemory.Span.SequenceEqual(leaf.RawDataMemory.Span))
            {
                // Pinned: the very certificate we were told to trust (self-signed servers).
                return true;
            }
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(trusted);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(leaf) && (errors & SslPolicyErrors.RemoteCertificateNameMismatch) == 0;
    }

    public void Dispose() => _client.Dispose();

    /// <summary>One call in flight on the client: its HTTP exchange, deadline and status.</summary>
    private sealed class ClientCall : IDisposable
    {
        private readonly HttpRequestMessage _request;
        private readonly CancellationToken _callerToken;
        // Only where there is something to cancel: a deadline or a caller's token.
        private readonly CancellationTokenSource? _cancellation;
        private readonly int _maxReceiveSize;
        private readonly byte[] _frameHeader = new byte[MessageFraming.HeaderSize];
        private HttpResponseMessage? _response;
        private Stream? _body;
        private string? _encoding;
        private bool _trailersOnly;

        public ClientCall(HttpRequestMessage request, TimeSpan? timeout, int maxReceiveSize, CancellationToken callerToken)
        {
            _request = request;
            _callerToken = callerToken;
            _maxReceiveSize = maxReceiveSize;
            if (callerToken.CanBeCanceled)
            {
                _cancellation = CancellationTokenSource.CreateLinkedTokenSource(callerToken);
            }
            else if (timeout is not null)
            {
                _cancellation = new CancellationTokenSource();
            }

            if (timeout is { } t)
            {
                _cancellation!.CancelAfter(t > TimeSpan.FromDays(30) ? TimeSpan.FromDays(30) : t);
            }
        }

        private CancellationToken Token => _cancellation?.Token ?? CancellationToken.None;

        public Metadata ReadHeaders() => ToMetadata(_response!.Headers);

        public async Task SendAsync(HttpClient client)
        {
            try
            {
                _response = await client.SendAsync(_request, HttpCompletionOption.ResponseHeadersRead, Token).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                throw Translate(e);
            }

            if (_response.StatusCode != HttpStatusCode.OK)
            {
                var code = FromHttpStatus(_response.StatusCode);
                var detail = ReadHeader(_response.Headers, "grpc-message") is { } m
                    ? StatusMessage.Decode(m)
                    : $"Bad gRPC response: HTTP status {(int)_response.StatusCode}";
                throw new RpcException(code, detail);
            }

            if (ReadHeader(_response.Headers, "grpc-status") is not null)
            {
                _trailersOnly = true;
                return;
            }

            var contentType = _response.Content.Headers.ContentType?.MediaType;
            if (contentType is null || !contentType.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase))
            {
                throw new RpcException(StatusCode.Internal, $"Bad gRPC response: content-type '{contentType}'");
            }

            _encoding = ReadHeader(_response.Headers, MessageEncoding.Header);
            if (!MessageEncoding.CanDecode(_encoding))
            {
                throw new RpcException(StatusCode.Internal, $"The server answered with message encoding '{_encoding}', which was not offered.");
            }
        }

        public async Task<T?> ReadAsync<T>(MessageParser<T> parser)
            where T : class, IMessage<T>
        {
            if (_trailersOnly)
            {
                return null;
            }

            try
            {
                _body ??= await _response!.Content.ReadAsStreamAsync(Token).ConfigureAwait(false);
                return await MessageFraming.ReadAsync(_body, _frameHeader, parser, _encoding, _maxReceiveSize, Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not RpcException)
            {
                throw Translate(e);
            }
        }

        /// <summary>Reads the status; returns the trailers when OK, throws <see cref="RpcException"/> otherwise.</summary>
        public async Task<Metadata> ReadStatusAsync(bool withMetadata = false)
        {
            var response = _response!;
            HttpHeaders source;
            if (_trailersOnly)
            {
                source = response.Headers;
            }
            else
            {
                try
                {
                    // Trailers arrive once the body has been read to its end.
                    _body ??= await response.Content.ReadAsStreamAsync(Token).ConfigureAwait(false);
                    if (await _body.ReadAsync(_frameHeader.AsMemory(0, 1), Token).ConfigureAwait(false) != 0)
                    {
                        throw new RpcException(StatusCode.Internal, "Unexpected data after the last message");
                    }
                }
                catch (Exception e) when (e is not RpcException)
                {
                    throw Translate(e);
                }

                source = response.TrailingHeaders;
            }

            var statusText = ReadHeader(source, "grpc-status");
            // Metadata is built only when someone will look at it: enumerating headers costs.
            var trailers = withMetadata || statusText != "0" ? ToMetadata(source) : EmptyMetadata;
            if (statusText is null)
            {
                throw new RpcException(StatusCode.Internal, "The server ended the call without a grpc-status.", trailers);
            }

            if (!int.TryParse(statusText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var status))
            {
                throw new RpcException(StatusCode.Unknown, $"Unparseable grpc-status '{statusText}'", trailers);
            }

            if (status != 0)
            {
                var code = status is > 0 and <= 16 ? (StatusCode)status : StatusCode.Unknown;
                throw new RpcException(code, StatusMessage.Decode(ReadHeader(source, "grpc-message")), trailers);
            }

            return trailers;
        }

        private RpcException Translate(Exception e)
        {
            if (e is RpcException rpc)
            {
                return rpc;
            }

            if (_cancellation?.IsCancellationRequested == true)
            {
                return _callerToken.IsCancellationRequested
                    ? new RpcException(StatusCode.Cancelled, "Call cancelled", inner: e)
                    : new RpcException(StatusCode.DeadlineExceeded, "Deadline Exceeded", inner: e);
            }

            if (FindProtocolError(e) is { } protocolError)
            {
                // RST_STREAM codes (RFC 9113 §7), mapped as grpc/doc/PROTOCOL-HTTP2.md says.
                return protocolError.ErrorCode switch
                {
                    0x7 => new RpcException(StatusCode.Unavailable, "The server refused the stream", inner: e),
                    0x8 => new RpcException(StatusCode.Cancelled, "The server cancelled the stream", inner: e),
                    0xB => new RpcException(StatusCode.ResourceExhausted, "The server reported excessive load", inner: e),
                    0xC => new RpcException(StatusCode.PermissionDenied, "The server requires stronger security", inner: e),
                    _ => new RpcException(StatusCode.Internal, $"HTTP/2 stream error {protocolError.ErrorCode}: {protocolError.Message}", inner: e),
                };
            }

            return new RpcException(StatusCode.Unavailable, $"Error connecting to {_request.RequestUri?.GetLeftPart(UriPartial.Authority)}: {Innermost(e).Message}", inner: e);
        }

        private static HttpProtocolException? FindProtocolError(Exception? e)
        {
            for (; e is not null; e = e.InnerException)
            {
                if (e is HttpProtocolException p)
                {
                    return p;
                }
            }

            return null;
        }

        private static Exception Innermost(Exception e)
        {
            while (e.InnerException is not null)
            {
                e = e.InnerException;
            }

            return e;
        }

        private static string? ReadHeader(HttpHeaders headers, string name)
        {
            if (!headers.NonValidated.TryGetValues(name, out var values))
            {
                return null;
            }

            foreach (var value in values)
            {
                return value;
            }

            return null;
        }

        private static Metadata ToMetadata(HttpHeaders headers)
        {
            var metadata = new Metadata();
            foreach (var (name, values) in headers.NonValidated)
            {
                if (!Metadata.IsReservedHeader(name))
                {
                    foreach (var value in values)
                    {
                        metadata.AddFromWire(name, value);
                    }
                }
            }

            return metadata;
        }

        private static StatusCode FromHttpStatus(HttpStatusCode status) => (int)status switch
        {
            400 => StatusCode.Internal,
            401 => StatusCode.Unauthenticated,
            403 => StatusCode.PermissionDenied,
            404 => StatusCode.Unimplemented,
            429 or 502 or 503 or 504 => StatusCode.Unavailable,
            _ => StatusCode.Unknown,
        };

        public void Dispose()
        {
            // Disposing a response whose body was not read to its end resets the HTTP/2 stream,
            // which is how a refused or abandoned call stops the server's work.
            _response?.Dispose();
            _request.Dispose();
            _cancellation?.Dispose();
        }
    }
}
