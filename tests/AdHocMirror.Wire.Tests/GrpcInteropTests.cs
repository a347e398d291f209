using System.Text.Json;
using AdHocMirror.Wire.Tests.Interop;
using Google.Protobuf;

namespace AdHocMirror.Wire.Tests;

/// <summary>Wire compatibility with a real gRPC implementation, both directions.</summary>
public sealed class GrpcInteropTests
{
    [Fact]
    public async Task GrpcioClientCallsOurServer()
    {
        await using var server = await WireServer.StartAsync();

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
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{peer.Port}");

        var metadata = new Metadata().Add("authorization", "Bearer token-1").Add("x-trace-bin", [0, 0xfe, 7]);
        var response = await channel.UnaryCallAsync(
            InteropService.Echo,
            new EchoRequest { Text = "grüße", Payload = ByteString.CopyFrom([9, 8, 7]) },
            CallOptions.WithTimeout(TimeSpan.FromSeconds(10), metadata));
        Assert.Equal("grüße", response.Message.Text);
        Assert.Equal([9, 8, 7], response.Message.Payload.ToByteArray());
        Assert.Equal("Bearer token-1", response.Message.Metadata["authorization"]);
        Assert.Equal(Convert.ToBase64String([0, 0xfe, 7]), response.Message.Metadata["x-trace-bin"]);
        Assert.True(response.Message.HadDeadline);
        Assert.Equal("grpcio", response.Trailers.Get("x-served-by"));
        Assert.Equal([1, 2, 3], response.Trailers.GetBytes("x-checksum-bin"));

        var error = await Assert.ThrowsAsync<RpcException>(() => channel.UnaryAsync(
            InteropService.Echo, new EchoRequest { FailCode = 5, FailMessage = "no such mirror: ünïcode 100%" }, CallOptions.WithTimeout(TimeSpan.FromSeconds(10))));
        Assert.Equal(StatusCode.NotFound, error.Code);
        Assert.Equal("no such mirror: ünïcode 100%", error.Detail);

        var deadline = await Assert.ThrowsAsync<RpcException>(() => channel.UnaryAsync(
            InteropService.Echo, new EchoRequest { SleepMs = 10_000 }, CallOptions.WithTimeout(TimeSpan.FromMilliseconds(300))));
        Assert.Equal(StatusCode.DeadlineExceeded, deadline.Code);

        var indexes = new List<int>();
        await foreach (var reply in channel.ServerStreamingAsync(InteropService.Count, new EchoRequest { Count = 4 }, CallOptions.WithTimeout(TimeSpan.FromSeconds(10))))
        {
            indexes.Add(reply.Index);
        }

        Assert.Equal([0, 1, 2, 3], indexes);

        indexes.Clear();
        var streamError = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            await foreach (var reply in channel.ServerStreamingAsync(InteropService.Count, new EchoRequest { Count = 2, FailCode = 8, FailMessage = "slow down" }))
            {
                indexes.Add(reply.Index);
            }
        });
        Assert.Equal(StatusCode.ResourceExhausted, streamError.Code);
        Assert.Equal("slow down", streamError.Detail);
        Assert.Equal([0, 1], indexes);

        var unimplemented = await Assert.ThrowsAsync<RpcException>(() => channel.UnaryAsync(
            Method.Unary<EchoRequest, EchoReply>("ahm.test.Interop", "Nope"), new EchoRequest()));
        Assert.Equal(StatusCode.Unimplemented, unimplemented.Code);

        // grpcio's default receive limit is 4 MiB as well: its refusal must reach us as a status.
        var tooLarge = await Assert.ThrowsAsync<RpcException>(() => channel.UnaryAsync(
            InteropService.Echo, new EchoRequest { Payload = ByteString.CopyFrom(new byte[4 * 1024 * 1024]) },
            CallOptions.WithTimeout(TimeSpan.FromSeconds(10))));
        Assert.Equal(StatusCode.ResourceExhausted, tooLarge.Code);
        Assert.Contains("larger than max", tooLarge.Detail, StringComparison.OrdinalIgnoreCase);
    }
}
