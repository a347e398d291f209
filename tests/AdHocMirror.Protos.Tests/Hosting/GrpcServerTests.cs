using System.Net;
using AdHocMirror.Hosting;
using AdHocMirror.Protos.Tests.Interop;
using AdHocMirror.Testing.Hostile;
using Google.Protobuf;
using Grpc.Health.V1;

namespace AdHocMirror.Protos.Tests.Hosting;

/// <summary>The project's <see cref="GrpcServer"/>: its limits, health and error handling, as a caller meets them.</summary>
public sealed class GrpcServerTests
{
    [Fact]
    public async Task A_wrong_content_type_is_refused_with_HTTP_415()
    {
        await using var server = await InteropServer.StartAsync();
        var outcome = await RawGrpcRequest.SendAsync(server.Address, "/ahm.test.Interop/Echo", RawGrpc.Frame(0, []), contentType: "application/json");
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, outcome.HttpStatus);
    }

    [Fact]
    public async Task A_request_over_the_limit_is_RESOURCE_EXHAUSTED_and_the_connection_stays_usable()
    {
        await using var server = await InteropServer.StartAsync(new GrpcServerLimits { MaxReceiveMessageSize = 1024 });
        using var channel = Clients.GrpcChannels.Create("http://" + server.Address);
        var client = new Interop.Interop.InteropClient(channel);
        var error = await Assert.ThrowsAsync<RpcException>(async () => await client.EchoAsync(
            new EchoRequest { Payload = ByteString.CopyFrom(new byte[2048]) }, Clients.Calls.WithTimeout(TimeSpan.FromSeconds(10))));
        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Equal("ok", (await client.EchoAsync(new EchoRequest { Text = "ok" }, Clients.Calls.WithTimeout(TimeSpan.FromSeconds(10)))).Text);
    }

    [Fact]
    public async Task Deadlines_that_fire_while_the_handler_works_leave_the_server_up_1000_times_on_one_connection()
    {
        await using var server = await InteropServer.StartAsync();
        using var channel = Clients.GrpcChannels.Create("http://" + server.Address);
        var client = new Interop.Interop.InteropClient(channel);
        var codes = new System.Collections.Concurrent.ConcurrentDictionary<StatusCode, int>();
        var others = new System.Collections.Concurrent.ConcurrentBag<string>();
        var next = 0;
        await Task.WhenAll(Enumerable.Range(0, 50).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) <= 1000)
            {
                var code = StatusCode.OK;
                try
                {
                    await client.EchoAsync(new EchoRequest { SleepMs = 5_000 }, deadline: DateTime.UtcNow.AddMilliseconds(10 + Random.Shared.Next(40)));
                }
                catch (RpcException e)
                {
                    // A reset or closed connection on a busy machine: see HostileCaller.ShedByServer.
                    code = HostileCaller.ShedByServer(e) ? HostileCaller.Shed : e.StatusCode;
                    if (code != StatusCode.DeadlineExceeded)
                    {
                        others.Add(e.StatusCode + ": " + e.Status.Detail);
                    }
                }

                codes.AddOrUpdate(code, 1, (_, n) => n + 1);
            }
        }));

        var seen = string.Join(", ", codes.Select(c => $"{(c.Key == HostileCaller.Shed ? "server reset" : c.Key)} {c.Value}")) + "\n" + string.Join("\n", others.Distinct());
        Assert.True(codes.Keys.All(c => c is StatusCode.DeadlineExceeded or HostileCaller.Shed), seen);
        Assert.True(codes.GetValueOrDefault(StatusCode.DeadlineExceeded) >= 800, seen);
        Assert.Equal("still here", (await client.EchoAsync(new EchoRequest { Text = "still here" }, Clients.Calls.WithTimeout(TimeSpan.FromSeconds(10)))).Text);
    }

    [Fact]
    public async Task Calls_that_never_send_their_body_are_ended_by_the_server_within_the_unary_call_bound()
    {
        await using var server = await InteropServer.StartAsync();
        var ended = await HostileCaller.BodilessCallsAsync(server.Address, "/ahm.test.Interop/Echo", calls: 200, giveUpAfter: TimeSpan.FromSeconds(75));
        var slowest = ended[^1].After;
        // The unary-call bound is 30 s, and a reset Kestrel held back goes out with the next frame, at the latest the
        // keep-alive ping 15 s later (GrpcServerLimits.KeepAlivePingDelay); the rest is slack for a busy machine.
        // Without the bound these stay open for ever.
        Assert.True(slowest < TimeSpan.FromSeconds(55), $"slowest bodiless call ended after {slowest.TotalSeconds:F1} s: {string.Join(", ", ended.GroupBy(e => e.How).Select(g => $"{g.Key} {g.Count()}"))}");

        using var channel = Clients.GrpcChannels.Create("http://" + server.Address);
        Assert.Equal("after", (await new Interop.Interop.InteropClient(channel).EchoAsync(new EchoRequest { Text = "after" }, Clients.Calls.WithTimeout(TimeSpan.FromSeconds(10)))).Text);
    }

    [Fact]
    public async Task A_unary_call_is_ended_by_the_server_after_its_maximum_duration_whatever_the_handler_does()
    {
        await using var server = await InteropServer.StartAsync(new GrpcServerLimits { MaxUnaryCallDuration = TimeSpan.FromSeconds(1), MaxReceiveMessageSize = 4096 });
        using var channel = Clients.GrpcChannels.Create("http://" + server.Address);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<RpcException>(async () => await new Interop.Interop.InteropClient(channel).EchoAsync(
            new EchoRequest { SleepMs = 60_000 }, Clients.Calls.WithTimeout(TimeSpan.FromSeconds(60))));
        Assert.NotEqual(StatusCode.DeadlineExceeded, error.StatusCode);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"ended after {watch.Elapsed.TotalSeconds:F1} s");
        Assert.Equal("next", (await new Interop.Interop.InteropClient(channel).EchoAsync(new EchoRequest { Text = "next" }, Clients.Calls.WithTimeout(TimeSpan.FromSeconds(10)))).Text);
    }

    [Fact]
    public async Task Health_follows_readiness_and_says_not_serving_while_a_condition_holds()
    {
        await using var server = await InteropServer.StartAsync();
        using var channel = Clients.GrpcChannels.Create("http://" + server.Address);
        var health = new Health.HealthClient(channel);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, (await health.CheckAsync(new HealthCheckRequest(), Clients.Calls.WithTimeout(TimeSpan.FromSeconds(10)))).Status);

        server.Readiness.Block("store", "not open yet");
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.NotServing, (await health.CheckAsync(new HealthCheckRequest(), Clients.Calls.WithTimeout(TimeSpan.FromSeconds(10)))).Status);

        server.Readiness.Clear("store");
        server.Readiness.ShuttingDown();
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.NotServing, (await health.CheckAsync(new HealthCheckRequest(), Clients.Calls.WithTimeout(TimeSpan.FromSeconds(10)))).Status);
    }

    [Fact]
    public async Task An_exception_the_handler_did_not_mean_is_INTERNAL_with_no_detail()
    {
        await using var server = await InteropServer.StartAsync();
        using var channel = Clients.GrpcChannels.Create("http://" + server.Address);
        var error = await Assert.ThrowsAsync<RpcException>(async () => await new Interop.Interop.InteropClient(channel).EchoAsync(
            new EchoRequest { Text = InteropService.Crash }, Clients.Calls.WithTimeout(TimeSpan.FromSeconds(10))));
        Assert.Equal(StatusCode.Internal, error.StatusCode);
        Assert.Equal("internal error", error.Status.Detail);
    }
}
