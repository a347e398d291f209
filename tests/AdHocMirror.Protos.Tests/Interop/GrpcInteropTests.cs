using System.Text.Json;
using AdHocMirror.Clients;
using Google.Protobuf;

namespace AdHocMirror.Protos.Tests.Interop;

/// <summary>Our stack against a real gRPC implementation of another lineage (python3-grpcio), both directions.</summary>
public sealed class GrpcInteropTests
{
    [Fact]
    public async Task GrpcioClientCallsOurServer()
    {
        await using var server = await InteropServer.StartAsync();

        var run = await PythonPeer.RunClientAsync(server.Address);
        Assert.True(run.ExitCode == 0, run.Stderr);
        using var json = JsonDocument.Parse(run.Stdout);
        var r = json.RootElement;

        var ok = r.GetProperty("ok");
        Assert.Equal("héllo", ok.GetProperty("text").GetString());
        Assert.Equal(Convert.ToBase64String([0, 1, 2]), ok.GetProperty("payload").GetString());
        Assert.Equal("Bearer abc.def", ok.GetProperty("metadata").GetProperty("authorization").GetString());
        Assert.Equal(Convert.ToBase64String([0, 0xff, 0x10]), ok.GetProperty("metadata").GetProperty("x-trace-bin").GetString());
        Assert.True(ok.GetProperty("had_deadline").GetBoolean());
        Assert.Equal("ahm", ok.GetProperty("trailers").GetProperty("x-served-by").GetString());

        var error = r.GetProperty("error");
        Assert.Equal("PERMISSION_DENIED", error.GetProperty("code").GetString());
        Assert.Equal("key revoked: 100% sure ✓", error.GetProperty("details").GetString());
        Assert.Equal("ahm", error.GetProperty("trailers").GetProperty("x-served-by").GetString());

        Assert.Equal("DEADLINE_EXCEEDED", r.GetProperty("deadline").GetProperty("code").GetString());
        Assert.Equal([0, 1, 2, 3, 4], r.GetProperty("stream").EnumerateArray().Select(e => e.GetInt32()));

        var streamError = r.GetProperty("stream_error");
        Assert.Equal("UNAVAILABLE", streamError.GetProperty("code").GetString());
        Assert.Equal("going away", streamError.GetProperty("details").GetString());
        Assert.Equal([0, 1, 2], streamError.GetProperty("got").EnumerateArray().Select(e => e.GetInt32()));

        Assert.Equal("UNIMPLEMENTED", r.GetProperty("unimplemented").GetProperty("code").GetString());
        Assert.Equal("RESOURCE_EXHAUSTED", r.GetProperty("too_large").GetProperty("code").GetString());
        Assert.Equal("squeeze", r.GetProperty("gzip").GetProperty("text").GetString());
        Assert.Equal(100000, r.GetProperty("gzip").GetProperty("payload_size").GetInt32());
    }

    [Fact]
    public async Task OurClientCallsGrpcioServer()
    {
        using var peer = await PythonPeer.StartServerAsync();
        using var channel = GrpcChannels.Create($"http://127.0.0.1:{peer.Port}");
        var client = new Interop.InteropClient(channel);

        var metadata = new Metadata { { "authorization", "Bearer token-1" }, { "x-trace-bin", new byte[] { 0, 0xfe, 7 } } };
        using var call = client.EchoAsync(
            new EchoRequest { Text = "grüße", Payload = ByteString.CopyFrom([9, 8, 7]) },
            Calls.WithTimeout(TimeSpan.FromSeconds(10), metadata));
        var response = await call;
        Assert.Equal("grüße", response.Text);
        Assert.Equal([9, 8, 7], response.Payload.ToByteArray());
        Assert.Equal("Bearer token-1", response.Metadata["authorization"]);
        Assert.Equal(Convert.ToBase64String([0, 0xfe, 7]), response.Metadata["x-trace-bin"]);
        Assert.True(response.HadDeadline);
        var trailers = call.GetTrailers();
        Assert.Equal("grpcio", trailers.GetValue("x-served-by"));
        Assert.Equal([1, 2, 3], trailers.GetValueBytes("x-checksum-bin"));

        var error = await Assert.ThrowsAsync<RpcException>(async () => await client.EchoAsync(
            new EchoRequest { FailCode = 5, FailMessage = "no such mirror: ünïcode 100%" }, Calls.WithTimeout(TimeSpan.FromSeconds(10))));
        Assert.Equal(StatusCode.NotFound, error.StatusCode);
        Assert.Equal("no such mirror: ünïcode 100%", error.Status.Detail);

        var deadline = await Assert.ThrowsAsync<RpcException>(async () => await client.EchoAsync(
            new EchoRequest { SleepMs = 10_000 }, Calls.WithTimeout(TimeSpan.FromMilliseconds(300))));
        Assert.Equal(StatusCode.DeadlineExceeded, deadline.StatusCode);

        var indexes = new List<int>();
        using (var stream = client.Count(new EchoRequest { Count = 4 }, Calls.WithTimeout(TimeSpan.FromSeconds(10))))
        {
            await foreach (var reply in stream.ResponseStream.ReadAllAsync())
            {
                indexes.Add(reply.Index);
            }
        }

        Assert.Equal([0, 1, 2, 3], indexes);

        indexes.Clear();
        var streamError = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            using var stream = client.Count(new EchoRequest { Count = 2, FailCode = 8, FailMessage = "slow down" }, Calls.WithTimeout(TimeSpan.FromSeconds(10)));
            await foreach (var reply in stream.ResponseStream.ReadAllAsync())
            {
                indexes.Add(reply.Index);
            }
        });
        Assert.Equal(StatusCode.ResourceExhausted, streamError.StatusCode);
        Assert.Equal("slow down", streamError.Status.Detail);
        Assert.Equal([0, 1], indexes);

        var nope = new Method<EchoRequest, EchoReply>(MethodType.Unary, "ahm.test.Interop", "Nope", Marshallers.Create(m => m.ToByteArray(), EchoRequest.Parser.ParseFrom), Marshallers.Create(m => m.ToByteArray(), EchoReply.Parser.ParseFrom));
        var unimplemented = await Assert.ThrowsAsync<RpcException>(async () => await channel.CreateCallInvoker().AsyncUnaryCall(nope, null, Calls.WithTimeout(TimeSpan.FromSeconds(10)), new EchoRequest()));
        Assert.Equal(StatusCode.Unimplemented, unimplemented.StatusCode);

        // grpcio's default receive limit is 4 MiB: its refusal must reach us as a status.
        using var big = GrpcChannels.Create($"http://127.0.0.1:{peer.Port}", new ChannelSettings { MaxSendMessageSize = 16 * 1024 * 1024 });
        var tooLarge = await Assert.ThrowsAsync<RpcException>(async () => await new Interop.InteropClient(big).EchoAsync(
            new EchoRequest { Payload = ByteString.CopyFrom(new byte[4 * 1024 * 1024]) }, Calls.WithTimeout(TimeSpan.FromSeconds(10))));
        Assert.Equal(StatusCode.ResourceExhausted, tooLarge.StatusCode);
        Assert.Contains("larger than max", tooLarge.Status.Detail, StringComparison.OrdinalIgnoreCase);
    }
}
