using System.Diagnostics;
using System.Net;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;

namespace AdHocMirror.Testing.Hostile;

/// <summary>
/// What an attacker (or an overloaded client) does to a gRPC listener: deadlines that fire mid-call, calls that never
/// send their body, and malformed requests of every kind. Each method returns what happened so that tests assert on it.
/// </summary>
public static class HostileCaller
{
    /// <summary>Not a gRPC status: the call died with its stream or connection, which the server reset or closed.</summary>
    public const StatusCode Shed = (StatusCode)(-1);

    /// <summary>
    /// Whether a call ended by the server resetting its stream or closing its connection rather than by a status. On a
    /// busy machine some deadline-bound calls end so: grpc-dotnet resets with CANCEL once its deadline has fired, Kestrel
    /// refuses new streams with ENHANCE_YOUR_CALM while more than twice the stream limit of reset streams still have
    /// handlers running, and closes a connection that keeps provoking that (its CVE-2023-44487 defence) or whose client
    /// sends a frame on a stream it already dropped (STREAM_CLOSED). Each is the server ending or shedding the call.
    /// </summary>
    public static bool ShedByServer(RpcException e) =>
        e.Status.Detail.StartsWith("Error starting gRPC call.", StringComparison.Ordinal)
        && new[] { "server reset the stream", "server closed the connection", "Broken pipe", "Connection reset by peer" }.Any(s => e.Status.Detail.Contains(s, StringComparison.Ordinal));

    /// <summary>
    /// Health/Watch calls (the server keeps working: the stream stays open) with short deadlines, all on one
    /// connection, <paramref name="parallel"/> at a time. Returns the status of each (<see cref="Shed"/> for a reset).
    /// </summary>
    public static async Task<IReadOnlyDictionary<StatusCode, int>> DeadlinesAsync(GrpcChannel channel, int calls, int parallel = 50)
    {
        var client = new Health.HealthClient(channel);
        var counts = new System.Collections.Concurrent.ConcurrentDictionary<StatusCode, int>();
        var next = 0;
        var workers = Enumerable.Range(0, parallel).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) <= calls)
            {
                var code = StatusCode.OK;
                try
                {
                    using var watch = client.Watch(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddMilliseconds(20 + Random.Shared.Next(40)));
                    while (await watch.ResponseStream.MoveNext(CancellationToken.None))
                    {
                    }
                }
                catch (RpcException e)
                {
                    code = ShedByServer(e) ? Shed : e.StatusCode;
                }

                counts.AddOrUpdate(code, 1, (_, n) => n + 1);
            }
        });
        await Task.WhenAll(workers);
        return counts;
    }

    /// <summary>
    /// Opens <paramref name="calls"/> unary calls to <paramref name="path"/> that send headers and then nothing, each on
    /// a connection of its own; returns how long each took to be ended, and how.
    /// </summary>
    public static async Task<IReadOnlyList<(TimeSpan After, string How)>> BodilessCallsAsync(string address, string path, int calls, TimeSpan giveUpAfter)
    {
        // A connection each: Kestrel may end stalled calls by closing their connection with GOAWAY, and HttpClient then
        // sends the streams it counts as unprocessed again on a new connection, so calls sharing one would measure the
        // client's re-sending rather than the server.
        var clients = Enumerable.Range(0, calls).Select(_ => NewClient(giveUpAfter)).ToArray();
        var started = Stopwatch.StartNew();
        var ended = new System.Collections.Concurrent.ConcurrentBag<(TimeSpan, string)>();
        try
        {
            var open = Enumerable.Range(0, calls).Select(async i =>
            {
                using var request = RawGrpc.Request(address, path, new NeverEndingContent());
                string how;
                try
                {
                    using var response = await clients[i % clients.Length].SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
                    await response.Content.ReadAsByteArrayAsync();
                    how = $"answered {RawGrpc.Header(response, "grpc-status") ?? ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture)}";
                }
                catch (OperationCanceledException) when (started.Elapsed < giveUpAfter)
                {
                    how = "cancelled by the server"; // HttpClient reports an RST_STREAM(CANCEL) this way
                }
                catch (OperationCanceledException)
                {
                    how = "still open when the client gave up";
                }
                catch (Exception e) when (e is HttpRequestException or IOException)
                {
                    how = "reset"; // the server reset the stream or closed the connection: that is it ending the call
                }

                ended.Add((started.Elapsed, how));
            });
            await Task.WhenAll(open);
        }
        finally
        {
            foreach (var client in clients)
            {
                client.Dispose();
            }
        }

        return ended.OrderBy(e => e.Item1).ToList();
    }

    /// <summary>Sends <paramref name="count"/> malformed requests to the listener; returns what came back, by kind.</summary>
    public static async Task<FuzzReport> FuzzAsync(string address, IReadOnlyList<string> methods, int count, int seed, int parallel = 32)
    {
        var report = new FuzzReport();
        var random = new Random(seed);
        var cases = Enumerable.Range(0, count).Select(_ => MalformedCase.Draw(random, methods)).ToArray();
        var clients = Enumerable.Range(0, 4).Select(_ => NewClient(TimeSpan.FromSeconds(30))).ToArray();
        var next = -1;
        try
        {
            var workers = Enumerable.Range(0, parallel).Select(async w =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < cases.Length)
                {
                    await SendAsync(clients[w % clients.Length], address, cases[i], report);
                }
            });
            await Task.WhenAll(workers);
        }
        finally
        {
            foreach (var client in clients)
            {
                client.Dispose();
            }
        }

        return report;
    }

    private static async Task SendAsync(HttpClient client, string address, MalformedCase @case, FuzzReport report)
    {
        using var request = RawGrpc.Request(address, @case.Path, new ByteArrayContent(@case.Body), @case.ContentType);
        foreach (var (name, value) in @case.Headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        try
        {
            using var response = await client.SendAsync(request);
            await response.Content.ReadAsByteArrayAsync();
            var (status, message) = RawGrpc.StatusOf(response);
            report.Record(@case.Kind, status is null ? $"http {(int)response.StatusCode}" : status.Value.ToString(), message);
        }
        catch (TaskCanceledException)
        {
            report.Record(@case.Kind, "hung", string.Empty);
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            report.Record(@case.Kind, "reset", string.Empty);
        }
    }

    private static HttpClient NewClient(TimeSpan timeout) =>
        new(new SocketsHttpHandler { EnableMultipleHttp2Connections = false, UseProxy = false, ConnectTimeout = TimeSpan.FromSeconds(10) }) { Timeout = timeout };

    /// <summary>A request body that never arrives: the stream stays open without a byte.</summary>
    private sealed class NeverEndingContent : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => Task.Delay(Timeout.Infinite);

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken) =>
            Task.Delay(Timeout.Infinite, cancellationToken);

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
