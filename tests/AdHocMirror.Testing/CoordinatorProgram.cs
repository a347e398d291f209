using System.Diagnostics;

namespace AdHocMirror.Testing;

/// <summary>The built <c>ahm-coordinator</c> run as a real child process (<c>dotnet ahm-coordinator.dll …</c>), from a test project that references the coordinator (its dll is copied beside the tests).</summary>
public static class CoordinatorProgram
{
    public static string Dll => Path.Combine(AppContext.BaseDirectory, "ahm-coordinator.dll");

    public static Task<ExternalProcess.Result> RunAsync(params string[] args) =>
        ExternalProcess.RunAsync("dotnet", [Dll, .. args], environment: new Dictionary<string, string> { ["NO_COLOR"] = "1", ["COLUMNS"] = "250" }, timeout: TimeSpan.FromSeconds(60));

    /// <summary>Starts <c>serve</c> in the background; the caller kills it.</summary>
    public static Process StartServe(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Dll);
        start.ArgumentList.Add("serve");
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start ahm-coordinator");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }
}
