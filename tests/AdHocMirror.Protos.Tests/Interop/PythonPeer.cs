using System.Diagnostics;
using AdHocMirror.Testing;

namespace AdHocMirror.Protos.Tests.Interop;

/// <summary>Debian's python3-grpcio, the reference gRPC implementation our layer must interoperate with.</summary>
public static class PythonPeer
{
    public const string Python = "/usr/bin/python3";

    public static string ScriptDir => Path.Combine(AppContext.BaseDirectory, "python");

    public static string ProtoDir => Path.Combine(AppContext.BaseDirectory, "Protos");

    public static Task<ExternalProcess.Result> RunClientAsync(string target) =>
        ExternalProcess.RunAsync(Python, [Path.Combine(ScriptDir, "interop_client.py"), ProtoDir, target], ScriptDir, timeout: TimeSpan.FromMinutes(1));

    /// <summary>Starts the grpcio server; it serves until the returned handle is disposed (stdin closed).</summary>
    public static async Task<Server> StartServerAsync()
    {
        var start = new ProcessStartInfo(Python)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = ScriptDir,
        };
        start.ArgumentList.Add(Path.Combine(ScriptDir, "interop_server.py"));
        start.ArgumentList.Add(ProtoDir);
        var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var line = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
        if (!int.TryParse(line, out var port))
        {
            process.Kill();
            throw new InvalidOperationException($"grpcio server did not start: {line} {await stderr}");
        }

        return new Server(process, port);
    }

    public sealed class Server(Process process, int port) : IDisposable
    {
        public int Port => port;

        public void Dispose()
        {
            try
            {
                process.StandardInput.Close();
                if (!process.WaitForExit(5000))
                {
                    process.Kill();
                }
            }
            finally
            {
                process.Dispose();
            }
        }
    }
}
