using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using AdHocMirror.Contracts;
using AdHocMirror.Testing;
using AdHocMirror.Wire.Tests.Interop;
using Google.Protobuf;
using Grpc.Health.V1;

namespace AdHocMirror.Wire.Tests.Wire;

/// <summary>Our client against our server: statuses, deadlines, cancellation, limits, metadata, TLS.</summary>
public sealed class GrpcChannelTests : IAsyncLifetime
{
    private WireServer _server = null!;
    private GrpcChannel _channel = null!;

    public async Task InitializeAsync()
    {
        _server = await WireServer.StartAsync();
        _channel = _server.Channel();
    }

    public async Task DisposeAsync()
    {
        _channel.Dispose();
        await _server.DisposeAsync();
    }

    public static TheoryData<int> AllErrorCodes() => new(Enumerable.Range(1, 16));

    [Theory]
    [MemberData(nameof(AllErrorCodes))]
    public async Task EveryStatusCodeRoundTrips(int code)
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => _channel.UnaryAsync(
            InteropService.Echo, new EchoRequest { FailCode = code, FailMessage = $"code {code}: ✓ 50%\nnext line" }));
        Assert.Equal((StatusCode)code, error.Code);
        Assert.Equal($"code {code}: ✓ 50%\nnext line", error.Detail);
        Assert.Equal("ahm", error.Trailers.Get("x-served-by"));
    }

    [Fact]
    public async Task MetadataTextAndBinaryReachTheService()
    {
        var headers = new Metadata().Add("authorization", "Bearer k.s").Add("x-blob-bin", [0, 1, 255, 128]);
        var response = await _channel.UnaryCallAsync(InteropService.Echo, new EchoRequest { Text = "m" }, new CallOptions(headers));
        Assert.Equal("Bearer k.s", response.Message.Metadata["authorization"]);
        Assert.Equal(Convert.ToBase64String([0, 1, 255, 128]), response.Message.Metadata["x-blob-bin"]);
        Assert.False(response.Message.HadDeadline);
        Assert.Equal("ahm", response.Trailers.Get("x-served-by"));
    }

    [Fact]
    public async Task DeadlineExceededEndsTheCallPromptly()
    {
        var started = DateTime.UtcNow;
        var error = await Assert.ThrowsAsync<RpcException>(() => _channel.UnaryAsync(
            InteropService.Echo, new EchoRequest { SleepMs = 30_000 }, CallOptions.WithTimeout(TimeSpan.FromMilliseconds(200))));
        Assert.Equal(StatusCode.DeadlineExceeded, error.Code);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task PastDeadlineFailsWithoutSending()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => _channel.UnaryAsync(
            InteropService.Echo, new EchoRequest(), new CallOptions(Deadline: DateTimeOffset.UtcNow.AddSeconds(-1))));
        Assert.Equal(StatusCode.DeadlineExceeded, error.Code);
    }

    [Fact]
    public async Task CancellationByTheCallerIsCancelled()
    {
        using var cts = new CancellationTokenSource();
        var call = _channel.UnaryAsync(InteropService.Echo, new EchoRequest { SleepMs = 30_000 }, new CallOptions(CancellationToken: cts.Token));
        cts.CancelAfter(100);
        var error = await Assert.ThrowsAsync<RpcException>(() => call);
        Assert.Equal(StatusCode.Cancelled, error.Code);
    }

    [Fact]
    public async Task ServerStreamingDeliversEveryMessageThenStatus()
    {
        var got = new List<int>();
        await foreach (var reply in _channel.ServerStreamingAsync(InteropService.Count, new EchoRequest { Count = 50 }))
        {
            got.Add(reply.Index);
        }

        Assert.Equal(Enumerable.Range(0, 50), got);
    }

    [Fact]
    public async Task ClientRefusesResponsesOverItsLimit()
    {
        using var small = _server.Channel(new GrpcChannelOptions { MaxReceiveMessageSize = 1024 });
        var error = await Assert.ThrowsAsync<RpcException>(() => small.UnaryAsync(
            InteropService.Echo, new EchoRequest { Payload = ByteString.CopyFrom(new byte[4096]) }));
        Assert.Equal(StatusCode.ResourceExhausted, error.Code);
    }

    [Fact]
    public async Task ClientRefusesToSendOverItsLimit()
    {
        using var small = _server.Channel(new GrpcChannelOptions { MaxSendMessageSize = 1024 });
        var error = await Assert.ThrowsAsync<RpcException>(() => small.UnaryAsync(
            InteropService.Echo, new EchoRequest { Payload = ByteString.CopyFrom(new byte[4096]) }));
        Assert.Equal(StatusCode.ResourceExhausted, error.Code);
    }

    [Fact]
    public async Task ServerRefusesRequestsOverDefaultLimit()
    {
        using var big = _server.Channel(new GrpcChannelOptions { MaxSendMessageSize = 16 * 1024 * 1024 });
        var error = await Assert.ThrowsAsync<RpcException>(() => big.UnaryAsync(
            InteropService.Echo, new EchoRequest { Payload = ByteString.CopyFrom(new byte[5 * 1024 * 1024]) }));
        Assert.Equal(StatusCode.ResourceExhausted, error.Code);
    }

    [Fact]
    public async Task UnreachableServerIsUnavailable()
    {
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{FreePort.Next()}");
        var error = await Assert.ThrowsAsync<RpcException>(() => channel.UnaryAsync(InteropService.Echo, new EchoRequest()));
        Assert.Equal(StatusCode.Unavailable, error.Code);
    }

    [Fact]
    public async Task HealthCheckAndWatchFollowTheServingStatus()
    {
        var health = new HealthClient(_channel);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, (await health.CheckAsync(new HealthCheckRequest())).Status);
        var unknown = await Assert.ThrowsAsync<RpcException>(() => health.CheckAsync(new HealthCheckRequest { Service = "nope" }));
        Assert.Equal(StatusCode.NotFound, unknown.Code);

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await using var watch = health.Watch(new HealthCheckRequest { Service = "ahm.test.Interop" }, new CallOptions(CancellationToken: cts.Token)).GetAsyncEnumerator(cts.Token);
        Assert.True(await watch.MoveNextAsync());
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, watch.Current.Status);
        _server.Health.Set("ahm.test.Interop", HealthCheckResponse.Types.ServingStatus.NotServing);
        Assert.True(await watch.MoveNextAsync());
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.NotServing, watch.Current.Status);
    }

    [Fact]
    public async Task TlsWithATrustedCertificateWorksAndAnUntrustedOneIsRefused()
    {
        using var dir = new TempDir();
        var (certFile, keyFile) = WriteSelfSignedCertificate(dir);
        await using var tls = await WireServer.StartAsync(endpoint: new GrpcListenEndpoint(new IPEndPoint(IPAddress.Loopback, 0), certFile, keyFile));

        using var trusting = GrpcChannel.ForAddress($"https://localhost:{tls.Server.Port}", new GrpcChannelOptions { TrustedCertificatesFile = certFile });
        var reply = await trusting.UnaryAsync(InteropService.Echo, new EchoRequest { Text = "over tls" });
        Assert.Equal("over tls", reply.Text);

        using var untrusting = GrpcChannel.ForAddress($"https://localhost:{tls.Server.Port}");
        var error = await Assert.ThrowsAsync<RpcException>(() => untrusting.UnaryAsync(InteropService.Echo, new EchoRequest()));
        Assert.Equal(StatusCode.Unavailable, error.Code);
    }

    private static (string Cert, string Key) WriteSelfSignedCertificate(TempDir dir)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("localhost");
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        var certFile = dir.Combine("server.crt");
        var keyFile = dir.Combine("server.key");
        File.WriteAllText(certFile, cert.ExportCertificatePem());
        File.WriteAllText(keyFile, key.ExportPkcs8PrivateKeyPem());
        return (certFile, keyFile);
    }
}
