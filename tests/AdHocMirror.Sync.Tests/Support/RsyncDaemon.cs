using System.Diagnostics;
using System.Globalization;
using AdHocMirror.Testing;

namespace AdHocMirror.Sync.Tests.Support;

/// <summary>A real <c>rsync --daemon</c> on 127.0.0.x serving one directory as module gentoo-portage; optionally bandwidth-limited.</summary>
public sealed class RsyncDaemon : IAsyncDisposable
{
    private readonly Process _process;

    private RsyncDaemon(Process process, string host, int port, string path)
    {
        _process = process;
        Host = host;
        Port = port;
        Path = path;
    }

    public string Host { get; }

    public int Port { get; }

    /// <summary>The served directory.</summary>
    public string Path { get; }

    public string Uri => $"rsync://{Host}:{Port}/gentoo-portage";

    /// <summary>
    /// Stops (SIGSTOP) the daemon and every connection it serves: a transfer from it then waits, mid-way, for as long as
    /// a test needs, however loaded the machine. Disposal kills them all the same.
    /// </summary>
    public async Task FreezeAsync()
    {
        foreach (var pid in ProcessTable.DescendantsOf(_process.Id).Select(e => e.Pid).Prepend(_process.Id))
        {
            await ExternalProcess.RunAsync("kill", ["-STOP", pid.ToString(CultureInfo.InvariantCulture)]);
        }
    }

    public static async Task<RsyncDaemon> StartAsync(string host, string path, string configDirectory, int? bandwidthKiBps = null, IEnumerable<string>? moduleSettings = null)
    {
        var port = FreePort.Next(System.Net.IPAddress.Parse(host));
        Directory.CreateDirectory(configDirectory);
        var config = System.IO.Path.Combine(configDirectory, $"rsyncd-{host}-{port}.conf");
        var asRoot = Environment.UserName == "root";
        await File.WriteAllTextAsync(config, string.Join('\n', (string[])
        [
            "use chroot = no",
            asRoot ? "uid = root\ngid = root" : string.Empty,
            "reverse lookup = no",
            "[gentoo-portage]",
            $"    path = {path}",
            "    read only = yes",
            .. (moduleSettings ?? []).Select(setting => "    " + setting),
            string.Empty,
        ]));
        List<string> arguments = ["--daemon", "--no-detach", "--config=" + config, "--address=" + host, "--port=" + port.ToString(CultureInfo.InvariantCulture)];
        if (bandwidthKiBps is { } limit)
        {
            arguments.Add("--bwlimit=" + limit.ToString(CultureInfo.InvariantCulture));
        }

        var process = Process.Start(new ProcessStartInfo("rsync", arguments) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true })!;
        var daemon = new RsyncDaemon(process, host, port, path);
        await Eventually.TrueAsync(async () => (await ExternalProcess.RunAsync("rsync", ["--list-only", "--no-recursive", daemon.Uri + "/"])).ExitCode == 0, $"rsync daemon on {host}:{port} answers");
        return daemon;
    }

    /// <summary>Kills the daemon and every connection it is serving (a mirror going away mid-transfer).</summary>
    public async Task KillAsync()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        catch (InvalidOperationException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process.Dispose();
    }
}
