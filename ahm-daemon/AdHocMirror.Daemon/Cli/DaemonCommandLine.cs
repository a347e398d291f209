using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using AdHocMirror.Daemon.Configuration;
using AdHocMirror.Daemon.Enrolment;
using AdHocMirror.Daemon.Hosting;
using AdHocMirror.Daemon.Serving;
using AdHocMirror.Daemon.Session;
using AdHocMirror.Daemon.Status;
using AdHocMirror.Hosting;
using AdHocMirror.Tree.OpenPgp;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AdHocMirror.Daemon.Cli;

/// <summary>The <c>ahm-daemon</c> command line: <c>run</c>, <c>status</c>, <c>forget-key</c>.</summary>
public static class DaemonCommandLine
{
    public const string DefaultConfig = "/etc/ahm/daemon.conf";

    /// <summary>
    /// System.CommandLine's own SIGTERM/SIGINT handling off: it gives the action 2 s and then ends the process with 143,
    /// which cut a clean logout short on a loaded machine. The host handles both signals and stops in order.
    /// </summary>
    private static InvocationConfiguration OwnSignals => new() { ProcessTerminationTimeout = null };

    public static async Task<int> InvokeAsync(string[] args)
    {
        var config = new Option<FileInfo?>("--config") { Description = $"Settings file [default: {DefaultConfig}, if present]", Recursive = true };
        var root = new RootCommand("ahm-daemon: serve a verified Gentoo tree to nearby users over rsync and git, as an Ad Hoc Mirror volunteer.");
        root.Options.Add(config);
        var flags = new List<(string Key, Option Option)>();
        foreach (var (key, description) in DaemonSettings.Known)
        {
            // Several coordinators: the flag may be repeated, as well as list them in one value.
            Option option = key == "coordinator"
                ? new Option<string[]>("--coordinator") { Description = description + " (repeatable)", Recursive = true, AllowMultipleArgumentsPerToken = false }
                : new Option<string?>("--" + key.Replace('_', '-')) { Description = description, Recursive = true };
            flags.Add((key, option));
            root.Options.Add(option);
        }

        string? Flag(ParseResult parsed, Option option) => option switch
        {
            Option<string[]> many => parsed.GetValue(many) is { Length: > 0 } values ? string.Join(' ', values) : null,
            Option<string?> one => parsed.GetValue(one),
            _ => null,
        };

        DaemonOptions Bind(ParseResult parsed)
        {
            var file = parsed.GetValue(config) is { } explicitFile
                ? SettingsFile.Read(explicitFile.FullName)
                : File.Exists(DefaultConfig) ? SettingsFile.Read(DefaultConfig) : new Dictionary<string, string?>();
            var overrides = flags.Select(f => (f.Key, Value: Flag(parsed, f.Option))).Where(f => f.Value is not null).ToDictionary(f => f.Key, f => f.Value);
            return DaemonSettings.Bind(file, overrides);
        }

        var run = new Command("run", "Run the mirror in the foreground until SIGTERM/SIGINT.");
        run.SetAction((parsed, cancellationToken) => Guard(() => RunAsync(Bind(parsed))));
        var status = new Command("status", "Show key age, session, versions, connections and last sync of the running daemon.");
        var json = new Option<bool>("--json") { Description = "Print JSON" };
        status.Options.Add(json);
        status.SetAction(parsed => Guard(() => Task.FromResult(ShowStatus(Bind(parsed), parsed.GetValue(json)))));
        var forget = new Command("forget-key", "Retire this mirror's key at the coordinator (best effort) and delete it from the state directory.");
        forget.SetAction((parsed, cancellationToken) => Guard(() => ForgetKeyAsync(Bind(parsed), cancellationToken)));
        root.Subcommands.Add(run);
        root.Subcommands.Add(status);
        root.Subcommands.Add(forget);
        foreach (var command in new Command[] { root, run, status, forget })
        {
            command.Description += "\n" + ExitCodes.Common;
        }

        // A flag it does not know is a bad command line: 2, as README says, not System.CommandLine's 1.
        var parsed = root.Parse(args);
        var exit = await parsed.InvokeAsync(OwnSignals);
        return parsed.Errors.Count > 0 ? ExitCodes.Usage : exit;
    }

    private static async Task<int> Guard(Func<Task<int>> action)
    {
        try
        {
            return await action();
        }
        catch (SettingsException e)
        {
            await Console.Error.WriteLineAsync("ahm-daemon: " + e.Message);
            return ExitCodes.Usage;
        }
        catch (PrivilegeException e)
        {
            await Console.Error.WriteLineAsync("ahm-daemon: " + e.Message);
            return ExitCodes.Failure;
        }
    }

    private static async Task<int> RunAsync(DaemonOptions options)
    {
        // Before anything else runs: no listener, child or file of ours may exist as root.
        Privileges.DropIfRoot(options.User, [options.StateDir, options.TreeDir]);
        OpenPgpKeyring keyring;
        try
        {
            keyring = await OpenPgpKeyring.OpenAsync(options.Keyring);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or UnauthorizedAccessException or System.ComponentModel.Win32Exception)
        {
            throw new SettingsException($"keyring: cannot use '{options.Keyring}': {e.Message}");
        }

        await using (keyring)
        {
            using var host = DaemonHost.Build(options, keyring);
            var exit = (DaemonExit)host.Services.GetService(typeof(DaemonExit))!;
            try
            {
                await host.RunAsync();
            }
            catch (OperationCanceledException)
            {
                // SIGTERM/SIGINT before every part had started: the host stopped what had; a stop asked for is a clean exit.
                await Console.Error.WriteLineAsync("ahm-daemon: stopped while starting");
                return ExitCodes.Success;
            }
            catch (Exception e) when (e is IOException or InvalidOperationException)
            {
                // Typically a port already in use (Kestrel's AddressInUseException is an InvalidOperationException).
                await Console.Error.WriteLineAsync("ahm-daemon: cannot start: " + e.Message);
                return ExitCodes.Failure;
            }

            if (exit.Reason is not null)
            {
                await Console.Error.WriteLineAsync("ahm-daemon: " + exit.Reason);
            }

            return exit.Code;
        }
    }

    private static int ShowStatus(DaemonOptions options, bool json)
    {
        var status = StatusFile.Read(options.StatusFile);
        if (status is null)
        {
            Console.Error.WriteLine($"ahm-daemon is not running (no status file at {options.StatusFile})");
            return ExitCodes.Unavailable;
        }

        var running = IsRunning(status.Pid) && status.Session is not ("stopped" or "logged out");
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new { running, status }, StatusFile.Json));
            return running ? ExitCodes.Success : ExitCodes.Unavailable;
        }

        var now = DateTimeOffset.UtcNow;
        static string At(DateTimeOffset? time, DateTimeOffset now) => time is { } t ? $"{t.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ} ({Ago(now - t)} ago)" : "never";
        Console.WriteLine($"daemon:       {(running ? "running" : "not running")} (pid {status.Pid}, started {At(status.StartedAt, now)})");
        if (status.Stopped is not null)
        {
            Console.WriteLine($"stopped:      {status.Stopped}");
        }

        Console.WriteLine($"key:          {(status.KeyId is null ? "none" : $"{status.KeyId}, {Ago(now - status.KeyIssuedAt!.Value)} old, expires {status.KeyExpiresAt:yyyy-MM-dd}")}");
        Console.WriteLine($"coordinator:  {status.Coordinator} — {status.Session}{(status.SessionDetail is null ? string.Empty : ": " + status.SessionDetail)}");
        Console.WriteLine($"last ping:    {At(status.LastPingAt, now)}, {status.Pings} in all");
        Console.WriteLine($"connections:  {status.ActiveConnections}");
        foreach (var (name, protocol) in new[] { ("rsync", status.Rsync), ("git", status.Git) })
        {
            if (protocol is null)
            {
                continue;
            }

            var version = protocol.Version is { } v ? v.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture) + (protocol.Commit is null ? string.Empty : " " + protocol.Commit[..Math.Min(12, protocol.Commit.Length)]) : "none yet";
            Console.WriteLine($"{name + ":",-13} {version}{(protocol.Serving ? ", serving" : ", not serving")}; upstream {protocol.Upstream}");
            Console.WriteLine($"  last sync:  {At(protocol.LastSyncAt, now)}: {protocol.LastSyncResult ?? "-"}{(protocol.LastSyncError is null ? string.Empty : " — " + protocol.LastSyncError)}");
        }

        return running ? ExitCodes.Success : ExitCodes.Unavailable;
    }

    private static async Task<int> ForgetKeyAsync(DaemonOptions options, CancellationToken cancellationToken)
    {
        if (StatusFile.Read(options.StatusFile) is { } status && IsRunning(status.Pid) && status.Session is not ("stopped" or "logged out"))
        {
            // A running daemon holds the key in memory and would simply register a new one.
            await Console.Error.WriteLineAsync($"ahm-daemon forget-key: the daemon is running (pid {status.Pid}); stop it first");
            return ExitCodes.Failure;
        }

        using var coordinator = new CoordinatorConnection(options);
        var enrolment = new KeyEnrolment(options, coordinator, new MirrorState(TimeProvider.System), TimeProvider.System, NullLogger<KeyEnrolment>.Instance);
        var (had, error) = await enrolment.RetireAndForgetAsync(cancellationToken);
        if (!had)
        {
            Console.WriteLine($"No key stored in {options.StateDir}.");
            return ExitCodes.Success;
        }

        Console.WriteLine(error is null
            ? "Key retired at the coordinator and deleted."
            : $"Key deleted; the coordinator could not be told ({error}); it expires on its own.");
        return ExitCodes.Success;
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static string Ago(TimeSpan span) =>
        span.TotalDays >= 1 ? $"{span.TotalDays:F0}d" : span.TotalHours >= 1 ? $"{span.TotalHours:F0}h" : span.TotalMinutes >= 1 ? $"{span.TotalMinutes:F0}m" : $"{Math.Max(0, span.TotalSeconds):F0}s";
}
