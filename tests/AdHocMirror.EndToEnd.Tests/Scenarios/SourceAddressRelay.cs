using System.Net;
using System.Net.Sockets;

namespace AdHocMirror.EndToEnd.Tests.Scenarios;

/// <summary>
/// A TCP relay that makes the coordinator see a client at another loopback address, as a user behind their own
/// router would be: ahm-sync connects to the relay, the relay connects on to the coordinator from
/// <see cref="Source"/>. The programs stay unchanged; the coordinator tells clients apart by address, so several
/// relays stand for several distinct users on one machine.
/// </summary>
public sealed class SourceAddressRelay : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly IPEndPoint _target;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private readonly List<Socket> _open = [];
    private readonly Lock _gate = new();

    private SourceAddressRelay(IPAddress source, IPEndPoint target)
    {
        Source = source;
        _target = target;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public IPAddress Source { get; }

    /// <summary>The coordinator URL to give ahm-sync.</summary>
    public string Url => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

    public static SourceAddressRelay Start(IPAddress source, IPEndPoint target) => new(source, target);

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket inbound;
            try
            {
                inbound = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _ = RelayAsync(inbound);
        }
    }

    private async Task RelayAsync(Socket inbound)
    {
        var outbound = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        Track(inbound);
        Track(outbound);
        try
        {
            outbound.Bind(new IPEndPoint(Source, 0));
            await outbound.ConnectAsync(_target, _stop.Token);
            await Task.WhenAny(PumpAsync(inbound, outbound), PumpAsync(outbound, inbound));
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException or IOException)
        {
            // The coordinator is down or a side hung up: the client sees its connection end, as it would without us.
        }
        finally
        {
            inbound.Dispose();
            outbound.Dispose();
        }
    }

    private async Task PumpAsync(Socket from, Socket to)
    {
        var buffer = new byte[16 * 1024];
        while (true)
        {
            var read = await from.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
            if (read == 0)
            {
                return;
            }

            await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, _stop.Token);
        }
    }

    private void Track(Socket socket)
    {
        lock (_gate)
        {
            _open.Add(socket);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        lock (_gate)
        {
            foreach (var socket in _open)
            {
                socket.Dispose();
            }
        }

        await _accepting;
        _stop.Dispose();
    }
}
