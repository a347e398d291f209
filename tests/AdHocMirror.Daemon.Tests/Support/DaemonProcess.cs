using System.Diagnostics;
using System.Text;
using AdHocMirror.Testing;

namespace AdHocMirror.Daemon.Tests.Support;

/// <summary>The built <c>ahm-daemon</c> as a separate process, configured by a file as a volunteer would write it.</summary>
internal static class DaemonProcess
{
    public static string Dll => Path.Combine(AppContext.BaseDirectory, "ahm-daemon.dll");

    /// <summary>
    /// Writes a configuration file for a daemon in <paramref name="world"/> serving <paramref name="protocols"/> and
    /// running as <c>nobody</c>; returns its path and the settings in it.
    /// </summary>
    public static async Task<(string Path, Dictionary<string, string?> Settings)> WriteConfigAsync(MirrorWorld world, string protocols)
    {
        var settings = world.Settings();
        settings["protocols"] = protocols;
        settings["user"] = "nobody";
        // The keyring must be readable by the user the daemon becomes.
        var keyring = Path.Combine(world.Root, "gentoo-release.asc");
        File.Copy(world.Upstream.Key.PublicKeyFile, keyring, overwrite: true);
        settings["keyring"] = keyring;
        if (protocols == "rsync")
        {
            settings["upstream"] = world.Upstream.RsyncUri;
        }
        else
        {
            // The daemon runs as nobody, and git refuses to fetch from a local repository owned by someone else.
            (await ExternalProcess.RunAsync("chown", ["-R", "nobody", world.Upstream.GitRepository])).EnsureSuccess("chown");
        }

        var config = Path.Combine(world.Root, "daemon.conf");
        await File.WriteAllTextAsync(config, "# written by the test, as a volunteer would\n" + string.Concat(settings.Select(p => $"{p.Key} = {p.Value}\n")));
        return (config, settings);
    }

    /// <summary>Starts <c>ahm-daemon ARGUMENTS</c>, its stderr collected into <paramref name="stderr"/>.</summary>
    public static Process Start(IEnumerable<string> arguments, StringBuilder stderr, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        start.ArgumentList.Add(Dll);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        var process = Process.Start(start)!;
        process.ErrorDataReceived += (_, e) =>
        {
            lock (stderr)
            {
                stderr.AppendLine(e.Data);
            }
        };
        process.OutputDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        return process;
    }
}
