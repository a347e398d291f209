using System.Diagnostics;
using System.Globalization;
using AdHocMirror.Testing;

namespace AdHocMirror.Sync.Tests.Support;

/// <summary>A real <c>git daemon</c> on 127.0.0.x exporting the repositories under a base path.</summary>
public sealed class GitDaemon : IAsyncDisposable
{
    private readonly Process _process;

    private GitDaemon(Process process, string host, int port)
    {
        _process = process;
        Host = host;
        Port = port;
    }

    public string Host { get; }

    public int Port { get; }

    public string UriFor(string name) => $"git://{Host}:{Port}/{name}";

    public static async Task<GitDaemon> StartAsync(string host, string basePath)
    {
        var port = FreePort.Next(System.Net.IPAddress.Parse(host));
        var process = Process.Start(new ProcessStartInfo("git", [
            "daemon", "--reuseaddr", "--export-all", "--base-path=" + basePath, "--listen=" + host, "--port=" + port.ToString(CultureInfo.InvariantCulture), basePath,
        ]) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true })!;
        var daemon = new GitDaemon(process, host, port);
        await Eventually.TrueAsync(
            () =>
            {
                using var client = new System.Net.Sockets.TcpClient();
                try
                {
                    client.Connect(host, port);
                    return true;
                }
                catch (System.Net.Sockets.SocketException)
                {
                    return false;
                }
            },
            $"git daemon on {host}:{port} listens");
        return daemon;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
    }
}
