using System.Net;
using AdHocMirror.Wire.Tests.Interop;
using Google.Protobuf;

namespace AdHocMirror.Wire.Tests.Wire;

/// <summary>What our server answers to well-formed and malformed calls.</summary>
public sealed class GrpcServerTests : IAsyncLifetime
{
    private WireServer _server = null!;

    public async Task InitializeAsync() => _server = await WireServer.StartAsync(new GrpcServerOptions { MaxReceiveMessageSize = 64 * 1024, MaxSendMessageSize = 64 * 1024 });

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static byte[] Echo(string text) => RawGrpcRequest.Frame(0, new EchoRequest { Text = text }.ToByteArray());

    [Fact]
    public async Task WellFormedCallSucceeds()
    {
        var outcome = await RawGrpcRequest.SendAsync(_server.Address, "/ahm.test.Interop/Echo", Echo("hi"));
        Assert.Equal(StatusCode.OK, outcome.Status);
    }

    [Fact]
    public async Task UnknownMethodIsUnimplemented()
    {
        var outcome = await RawGrpcRequest.SendAsync(_server.Address, "/ahm.test.Interop/Missing", Echo("hi"));
        Assert.Equal(HttpStatusCode.OK, outcome.HttpStatus);
        Assert.Equal(StatusCode.Unimplemented, outcome.Status);
        Assert.Contains("/ahm.test.Interop/Missing", outcome.Message);
    }

    [Theory]
    [InlineData("application/json")]
    [InlineData("application/grpc-web")]
    [InlineData("text/plain")]
    public async Task WrongContentTypeIsRefusedWith415(string contentType)
    {
        var outcome = await RawGrpcRequest.SendAsync(_server.Address, "/ahm.test.Interop/Echo", Echo("hi"), contentType);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, outcome.HttpStatus);
        Assert.Equal(StatusCode.Internal, outcome.Status);
    }

    [Fact]
    public async Task ContentTypeWithProtoSuffixIsAccepted()
    {
        var outcome = await RawGrpcRequest.SendAsync(_server.Address, "/ahm.test.Interop/Echo", Echo("hi"), "application/grpc+proto");
        Assert.Equal(StatusCode.OK, outcome.Status);
    }

    [Fact]
    public async Task BadCompressedFlagIsInternal()
    {
        var outcome = await RawGrpcRequest.SendAsync(_server.Address, "/ahm.test.Interop/Echo", RawGrpcRequest.Frame(2, [1, 2, 3]));
        Assert.Equal(StatusCode.Internal, outcome.Status);
    }

    [Fact]
    public async Task TruncatedFrameIsInternal()
    {
        var outcome = await RawGrpcRequest.SendAsync(_server.Address, "/ahm.test.Interop/Echo", RawGrpcRequest.Frame(0, [0x0a, 0x01], declaredLength: 100));
        Assert.Equal(StatusCode.Internal, outcome.Status);
        Assert.Contains("Incomplete", outcome.Message);
    }

    [Fact]
    public async Task HeaderShorterThanFiveBytesIsInternal()
    {
        var outcome = await RawGrpcRequest.SendAsync(_server.Address, "/ahm.test.Interop/Echo", [0, 0, 0]);
        Assert.Equal(StatusCode.Internal, outcome.Status);
    }

    [Fact]
    public async Task GarbageProtobufIsInternal()
    {
        var outcome = await RawGrpcRequest.SendAsync(_server.Address, "/ahm.test.Interop/Echo", RawGrpcRequest.Frame(0, [0xff, 0xff, 0xff, 0xff, 0xff]));
        Assert.Equal(StatusCode.Internal, outcome.Status);
    }

    [Fact]
    public async Task EmptyBodyIsInternal()
    {
        var outcome = await RawGrpcRequest.SendAsync(_server.Address, "/ahm.test.Interop/Echo", []);
        Assert.Equal(StatusCode.Internal, outcome.Status);
        Assert.Contains("did not include a message", outcome.Message);
    }

    [Fact]
    public async Task TwoMessagesInUnaryCallIsInternal()
    {
        var outcome = await RawGrpcRequest.SendAsync(_server.Address, "/ahm.test.Interop/Echo", [.. Echo("a"), .. Echo("b")]);
        Assert.Equal(StatusCode.Internal, outcome.Status);
    }

    [Fact]
    public async Task OversizedLengthPrefixIsRefusedBeforeBuffering()
    {
        // Declares 1 GiB but sends 3 bytes: the prefix alone must decide, no waiting for the rest.
        var outcome = await RawGrpcRequest.SendAsync(_server.Address, "/ahm.test.Interop/Echo", RawGrpcRequest.Frame(0, [1, 2, 3], declaredLength: 1 << 30));
        Assert.Equal(StatusCode.ResourceExhausted, outcome.Status);
        Assert.Contains("larger than max", outcome.Message);
    }

    [Fact]
    public async Task CompressedFrameWithoutEncodingIsInternal()
    {
        var outcome = await RawGrpcRequest.SendAsync(_server.Address, "/ahm.test.Interop/Echo", RawGrpcRequest.Frame(1, new EchoRequest { Text = "x" }.ToByteArray()));
        Assert.Equal(StatusCode.Internal, outcome.Status);
        Assert.Contains("grpc-encoding", outcome.Message);
    }

    [Fact]
    public async Task UnsupportedEncodingIsUnimplemented()
    {
        var outcome = await RawGrpcRequest.SendAsync(
            _server.Address, "/ahm.test.Interop/Echo", RawGrpcRequest.Frame(1, [1, 2, 3]),
            headers: new Dictionary<string, string> { ["grpc-encoding"] = "snappy" });
        Assert.Equal(StatusCode.Unimplemented, outcome.Status);
    }

    [Theory]
    [InlineData("gzip")]
    [InlineData("deflate")]
    public async Task CompressedRequestsAreDecoded(string encoding)
    {
        var compressed = MessageEncoding.Compress(encoding, new EchoRequest { Text = "zipped" }.ToByteArray());
        var outcome = await RawGrpcRequest.SendAsync(
            _server.Address, "/ahm.test.Interop/Echo", RawGrpcRequest.Frame(1, compressed),
            headers: new Dictionary<string, string> { ["grpc-encoding"] = encoding });
        Assert.Equal(StatusCode.OK, outcome.Status);
    }

    [Fact]
    public async Task DecompressionBombIsResourceExhausted()
    {
        var bomb = MessageEncoding.Compress("gzip", new EchoRequest { Payload = ByteString.CopyFrom(new byte[1024 * 1024]) }.ToByteArray());
        Assert.True(bomb.Length < 64 * 1024);
        var outcome = await RawGrpcRequest.SendAsync(
            _server.Address, "/ahm.test.Interop/Echo", RawGrpcRequest.Frame(1, bomb),
            headers: new Dictionary<string, string> { ["grpc-encoding"] = "gzip" });
        Assert.Equal(StatusCode.ResourceExhausted, outcome.Status);
    }

    [Fact]
    public async Task InvalidTimeoutHeaderIsInternal()
    {
        var outcome = await RawGrpcRequest.SendAsync(
            _server.Address, "/ahm.test.Interop/Echo", Echo("x"), headers: new Dictionary<string, string> { ["grpc-timeout"] = "soon" });
        Assert.Equal(StatusCode.Internal, outcome.Status);
    }

    [Fact]
    public async Task ServerEnforcesTheDeadlineItself()
    {
        // The raw client never cancels: only the server's own deadline can end this call.
        var started = DateTime.UtcNow;
        var outcome = await RawGrpcRequest.SendAsync(
            _server.Address, "/ahm.test.Interop/Echo", RawGrpcRequest.Frame(0, new EchoRequest { SleepMs = 20_000 }.ToByteArray()),
            headers: new Dictionary<string, string> { ["grpc-timeout"] = "200m" });
        Assert.Equal(StatusCode.DeadlineExceeded, outcome.Status);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task ServerEnforcesTheDeadlineOnStreams()
    {
        var outcome = await RawGrpcRequest.SendAsync(
            _server.Address, "/ahm.test.Interop/Count", RawGrpcRequest.Frame(0, new EchoRequest { Count = 1000, SleepMs = 50 }.ToByteArray()),
            headers: new Dictionary<string, string> { ["grpc-timeout"] = "300m" });
        Assert.Equal(StatusCode.DeadlineExceeded, outcome.Status);
    }

    [Fact]
    public async Task Http11IsRefusedWithoutHanging()
    {
        // Cleartext endpoints are HTTP/2 only: an HTTP/1.1 client gets an error at once (Kestrel answers
        // 400 or drops the connection), never a hang and never a served call.
        var call = RawGrpcRequest.SendAsync(_server.Address, "/ahm.test.Interop/Echo", Echo("x"), version: HttpVersion.Version11);
        var error = await Record.ExceptionAsync(() => call);
        if (error is null)
        {
            var outcome = await call;
            Assert.NotEqual(HttpStatusCode.OK, outcome.HttpStatus);
            Assert.Null(outcome.Status);
        }
    }

    [Fact]
    public async Task ResponseLargerThanSendLimitIsResourceExhausted()
    {
        using var channel = _server.Channel();
        var error = await Assert.ThrowsAsync<RpcException>(() => channel.UnaryAsync(
            InteropService.Echo, new EchoRequest { Payload = ByteString.CopyFrom(new byte[60 * 1024]), Text = new string('x', 8 * 1024) }));
        Assert.Equal(StatusCode.ResourceExhausted, error.Code);
    }
}
