using System.CommandLine;
using System.Runtime.InteropServices;
using AdHocMirror.Contracts;
using AdHocMirror.Hosting;
using AdHocMirror.Sync.Configuration;
using AdHocMirror.Sync.Flow;
using AdHocMirror.Sync.Reporting;
using Grpc.Core;
using Grpc.Net.Client;
using MatchingClient = AdHocMirror.Contracts.V1.Matching.MatchingClient;
using AdHocMirror.Clients;

namespace AdHocMirror.Sync.Cli;

/// <summary>
/// The <c>ahm-sync</c> command line. Exit codes: <see cref="ExitCodes.Sync"/> (a flag it does not know is a bad
/// command line: 2, as README says, not System.CommandLine's 1).
/// </summary>
public static class SyncCommandLine
{
    public static async Task<int> InvokeAsync(string[] args, TextWriter? stdout = null, TextWriter? stderr = null)
    {
        var config = new Option<FileInfo?>("--config") { Description = "Settings file (key = value lines); flags override it" };
        var repo = new Option<string?>("--repo") { Description = "Repository to sync [default: its repos.conf location, else /var/db/repos/gentoo]" };
        var coordinator = new Option<string[]>("--coordinator")
        {
            Description = "Coordinator URL, e.g. https://ahm.example.org:7470 (repeatable, or several separated by spaces: coordinators on one database, asked in turn when one is down)",
            AllowMultipleArgumentsPerToken = false,
        };
        var trust = new Option<string?>("--coordinator-trust") { Description = "PEM file of certificates trusted for an https coordinator" };
        var noCoordinator = new Option<bool>("--no-coordinator") { Description = "Sync from the official mirrors only" };
        var protocol = new Option<string?>("--protocol") { Description = "rsync or git [default: what the repository uses]" };
        protocol.AcceptOnlyFromAmong("rsync", "git");
        var official = new Option<string[]>("--official") { Description = "Official fallback URI (repeatable) [default: repos.conf sync-uri, else rsync.gentoo.org]", AllowMultipleArgumentsPerToken = false };
        var keyring = new Option<string?>("--keyring") { Description = "OpenPGP keys that sign the tree [default: /usr/share/openpgp-keys/gentoo-release.asc]" };
        var candidates = new Option<uint?>("--candidates") { Description = "Mirrors to ask the coordinator for [default: its default, 3]" };
        var near = new Option<string?>("--near") { Description = "Location hint: country code (DE) or LAT,LON" };
        var probe = new Option<int?>("--probe") { Description = "Probe the round-trip time of the first N candidates and reorder them (0: off) [default: 3]" };
        var connectTimeout = new Option<string?>("--connect-timeout") { Description = "Connect timeout per source [default: 15s]" };
        var transferTimeout = new Option<string?>("--transfer-timeout") { Description = "Longest transfer from one source before the next is tried [default: 30m]" };
        var coordinatorTimeout = new Option<string?>("--coordinator-timeout") { Description = "Deadline of each coordinator call [default: 10s]" };
        var reposConf = new Option<string?>("--repos-conf") { Description = "portage repos.conf file or directory [default: /etc/portage/repos.conf]" };
        var postsync = new Option<string?>("--postsync-dir") { Description = "Hooks run after a sync, as emerge does [default: /etc/portage/repo.postsync.d]" };
        var rsyncOpt = new Option<string[]>("--rsync-opt") { Description = "Extra rsync option (repeatable; --rsync-opt=--bwlimit=500): only --bwlimit, --address, --sockopts, -4/--ipv4, -6/--ipv6", AllowMultipleArgumentsPerToken = false };
        var noHooks = new Option<bool>("--no-postsync-hooks") { Description = "Do not run the postsync hooks: the caller runs them (portage's sync-type = ahm module does, as emerge runs them after every sync module)" };
        var hashAfter = new Option<bool>("--hash-after-transfer") { Description = "Hash files only once rsync has ended, not while they arrive (for comparison; the result is the same)" };
        var json = new Option<bool>("--json") { Description = "Print a machine-readable result object on stdout" };
        var quiet = new Option<bool>("--quiet") { Description = "Print nothing but errors" };
        var root = new RootCommand("ahm-sync: sync a Gentoo repository from a newer nearby volunteer mirror, verify it, fall back to the official mirrors.\n"
            + ExitCodes.Sync)
        {
            config, repo, coordinator, trust, noCoordinator, protocol, official, keyring, candidates, near, probe,
            connectTimeout, transferTimeout, coordinatorTimeout, reposConf, postsync, noHooks, rsyncOpt, hashAfter, json, quiet,
        };
        root.SetAction(async (parsed, cancellationToken) =>
        {
            var flags = new SyncFlags
            {
                Config = parsed.GetValue(config)?.FullName,
                Repo = parsed.GetValue(repo),
                Coordinator = parsed.GetValue(coordinator) is { Length: > 0 } coordinators ? string.Join(' ', coordinators) : null,
                CoordinatorTrust = parsed.GetValue(trust),
                NoCoordinator = parsed.GetValue(noCoordinator),
                Protocol = parsed.GetValue(protocol),
                Official = parsed.GetValue(official) ?? [],
                Keyring = parsed.GetValue(keyring),
                Candidates = parsed.GetValue(candidates),
                Near = parsed.GetValue(near),
                Probe = parsed.GetValue(probe),
                ConnectTimeout = parsed.GetValue(connectTimeout),
                TransferTimeout = parsed.GetValue(transferTimeout),
                CoordinatorTimeout = parsed.GetValue(coordinatorTimeout),
                ReposConf = parsed.GetValue(reposConf),
                PostSyncDir = parsed.GetValue(postsync),
                NoPostSyncHooks = parsed.GetValue(noHooks),
                HashAfterTransfer = parsed.GetValue(hashAfter),
                RsyncOptions = parsed.GetValue(rsyncOpt) ?? [],
                Json = parsed.GetValue(json),
                Quiet = parsed.GetValue(quiet),
            };
            return await RunAsync(flags, cancellationToken, stdout, stderr);
        });
        // System.CommandLine's own signal handling off: it gives the action 2 s and then ends the process with 143, not
        // the documented 130, while a sync may need longer to put the repository back. RunAsync handles SIGTERM/SIGINT.
        var invocation = new InvocationConfiguration { ProcessTerminationTimeout = null };
        if (stdout is not null)
        {
            invocation.Output = stdout;
        }

        if (stderr is not null)
        {
            invocation.Error = stderr;
        }

        var parsed = root.Parse(args);
        var exit = await parsed.InvokeAsync(invocation);
        return parsed.Errors.Count > 0 ? ExitCodes.Usage : exit;
    }

    /// <summary>
    /// How long one coordinator address may take to accept a connection: within the connect timeout, and short enough
    /// that a silent first address leaves time to try the next before the coordinator timeout runs out.
    /// </summary>
    private static TimeSpan CoordinatorConnectTimeout(SyncOptions options)
    {
        var share = options.CoordinatorTimeout / 2;
        return share < options.ConnectTimeout ? share : options.ConnectTimeout;
    }

    /// <summary>Runs one sync; <paramref name="stdout"/>/<paramref name="stderr"/> default to the console.</summary>
    public static async Task<int> RunAsync(SyncFlags flags, CancellationToken cancellationToken, TextWriter? stdout = null, TextWriter? stderr = null)
    {
        var output = new TerminalOutput(flags.Quiet, flags.Json, stdout, stderr);
        SyncOptions options;
        try
        {
            options = SyncConfiguration.Build(flags);
        }
        catch (SettingsException e)
        {
            output.Result(new SyncResult { Status = "configuration_error", ExitCode = ExitCodes.Usage, Message = $"configuration error: {e.Message}" });
            return ExitCodes.Usage;
        }

        using var interrupted = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        void Interrupt(PosixSignalContext context)
        {
            context.Cancel = true;
            interrupted.Cancel();
        }

        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Interrupt);
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Interrupt);
        GrpcChannel? channel = null;
        try
        {
            channel = options.Coordinators is { } coordinators
                ? GrpcChannels.Create(coordinators, new ChannelSettings { TrustedCertificatesFile = options.CoordinatorTrust, ConnectTimeout = CoordinatorConnectTimeout(options) })
                : null;
            var sync = new RepositorySync(options, output, channel is null ? null : new MatchingClient(channel));
            var result = await sync.RunAsync(interrupted.Token);
            output.Result(result);
            return result.ExitCode;
        }
        catch (OperationCanceledException) when (interrupted.IsCancellationRequested)
        {
            output.Result(new SyncResult { Status = "interrupted", ExitCode = ExitCodes.Interrupted, Message = $"interrupted; {options.Repository} is unchanged", Repository = options.Repository });
            return ExitCodes.Interrupted;
        }
        catch (UnauthorizedAccessException e)
        {
            output.Result(new SyncResult { Status = "failed", ExitCode = ExitCodes.Failure, Message = $"no permission: {e.Message}; run as a user who may write {options.Repository} and its parent directory", Repository = options.Repository });
            return ExitCodes.Failure;
        }
        finally
        {
            channel?.Dispose();
        }
    }
}
