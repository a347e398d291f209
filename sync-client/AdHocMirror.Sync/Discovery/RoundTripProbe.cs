using System.Diagnostics;
using System.Net.Sockets;

namespace AdHocMirror.Sync.Discovery;

/// <summary>
/// Measures TCP connect time to the first few candidates (all at once) and puts the fastest first, like netselect /
/// mirrorselect: distance from GeoIP is a guess; the round trip is what the transfer will see. A candidate that does
/// not answer within the timeout keeps its place after those that did.
/// </summary>
public sealed class RoundTripProbe(int count, TimeSpan timeout)
{
    public async Task<IReadOnlyList<SyncSource>> ReorderAsync(IReadOnlyList<SyncSource> candidates, CancellationToken cancellationToken)
    {
        if (count <= 1 || candidates.Count <= 1)
        {
            return candidates;
        }

        var probed = candidates.Take(count).ToList();
        await Task.WhenAll(probed.Select(async c => c.RoundTrip = await MeasureAsync(c.Uri, cancellationToken)));
        // 20 ms buckets: only a clearly shorter round trip overrides the coordinator's order (stable sort).
        var ordered = probed.Where(c => c.RoundTrip is not null).OrderBy(c => (long)(c.RoundTrip!.Value.TotalMilliseconds / 20))
            .Concat(probed.Where(c => c.RoundTrip is null))
            .Concat(candidates.Skip(count));
        return ordered.ToList();
    }

    private async Task<TimeSpan?> MeasureAsync(string uri, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(uri, UriKind.Absolute, out var parsed) || string.IsNullOrEmpty(parsed.Host))
        {
            return null;
        }

        var port = parsed.Port > 0 ? parsed.Port : parsed.Scheme switch { "rsync" => 873, "git" => 9418, "https" => 443, _ => 80 };
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            // The better of two connects: one slow handshake (a busy host, a lost SYN) should not reorder mirrors.
            TimeSpan? best = null;
            for (var i = 0; i < 2; i++)
            {
                using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
                var watch = Stopwatch.StartNew();
                await socket.ConnectAsync(parsed.DnsSafeHost, port, cts.Token);
                best = best is { } b && b < watch.Elapsed ? b : watch.Elapsed;
            }

            return best;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }
}
