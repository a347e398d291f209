using System.CommandLine;
using System.Globalization;
using AdHocMirror.Contracts;
using AdHocMirror.Contracts.V1;
using AdHocMirror.Coordinator.Admin;
using AdHocMirror.Coordinator.Hosting;
using AdHocMirror.Coordinator.Keys;
using AdHocMirror.Hosting;
using AdHocMirror.Clients;
using Grpc.Core;
using AdminClient = AdHocMirror.Contracts.V1.Admin.AdminClient;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Spectre.Console;

namespace AdHocMirror.Coordinator.Cli;

/// <summary><c>ahm-coordinator admin …</c>: the infra staff's commands against the Admin service.</summary>
public static class AdminCommandLine
{
    public static Command Build(Option<FileInfo?> config)
    {
        var adminUrl = new Option<string?>("--admin-url") { Description = "Admin service URL [default: http:// + admin_listen of --config, else http://127.0.0.1:7471]", Recursive = true };
        var tokenFile = new Option<string?>("--token-file") { Description = "File holding the admin token [default: DATA_DIR/admin.token]", Recursive = true };
        var json = new Option<bool>("--json") { Description = "Print JSON (the Admin reply messages) for scripts", Recursive = true };
        var admin = new Command("admin", "Administer a running coordinator (mirrors, keys, blacklists, quarantine, audit, stats).") { adminUrl, tokenFile, json };
        var common = new Common(config, adminUrl, tokenFile, json);

        var states = new Option<string[]>("--state") { Description = "Only mirrors in these states: pinging, online, offline, quarantined", AllowMultipleArgumentsPerToken = true };
        var mirrors = new Command("mirrors", "List mirrors: state, versions, location, load, last ping.") { states };
        mirrors.SetAction((result, ct) => common.RunAsync(result, async client =>
        {
            var request = new ListMirrorsRequest();
            foreach (var state in result.GetValue(states) ?? [])
            {
                request.States.Add(state.Trim().ToLowerInvariant() switch
                {
                    "pinging" => MirrorState.Pinging,
                    "online" => MirrorState.Online,
                    "offline" => MirrorState.Offline,
                    "quarantined" => MirrorState.Quarantined,
                    _ => throw new UsageException($"--state: '{state}' is not pinging, online, offline or quarantined"),
                });
            }

            var reply = await client.ListMirrorsAsync(request, Call(ct));
            return common.Print(result, reply, () => AdminViews.Mirrors(reply));
        }));
        admin.Subcommands.Add(mirrors);

        var all = new Option<bool>("--all") { Description = "Also list ended keys still in their cool-off (tombstones)" };
        var keys = new Command("keys", "List keys: state, issue, expiry, last use.") { all };
        keys.SetAction((result, ct) => common.RunAsync(result, async client =>
        {
            var reply = await client.ListKeysAsync(new ListKeysRequest { IncludeTombstones = result.GetValue(all) }, Call(ct));
            return common.Print(result, reply, () => AdminViews.Keys(reply));
        }));
        admin.Subcommands.Add(keys);

        var reason = new Option<string?>("--reason") { Description = "Why (kept in the audit log)" };
        var duration = new Option<string?>("--for") { Description = "How long, e.g. 90d, 12h [default: until lifted]" };

        var revokeKey = KeyArgument();
        var revoke = new Command("revoke", "Revoke a key at once; its mirror leaves matching.") { revokeKey, reason };
        revoke.SetAction((result, ct) => common.RunAsync(result, async client =>
            common.Print(result, await client.RevokeKeyAsync(new RevokeKeyRequest { KeyId = result.GetValue(revokeKey)!, Reason = result.GetValue(reason) ?? string.Empty }, Call(ct)))));
        admin.Subcommands.Add(revoke);

        var blacklistKey = KeyArgument();
        var blacklist = new Command("blacklist", "Blacklist a key (with a reason, optionally for a time).") { blacklistKey, duration, reason };
        blacklist.SetAction((result, ct) => common.RunAsync(result, async client =>
            common.Print(result, await client.BlacklistKeyAsync(
                new BlacklistKeyRequest { KeyId = result.GetValue(blacklistKey)!, Reason = RequiredReason(result.GetValue(reason)), Duration = DurationOf(result.GetValue(duration)) }, Call(ct)))));
        admin.Subcommands.Add(blacklist);

        var unblacklistKey = KeyArgument();
        var unblacklist = new Command("unblacklist", "Lift a key's blacklist.") { unblacklistKey, reason };
        unblacklist.SetAction((result, ct) => common.RunAsync(result, async client =>
            common.Print(result, await client.UnblacklistKeyAsync(new UnblacklistKeyRequest { KeyId = result.GetValue(unblacklistKey)!, Reason = result.GetValue(reason) ?? string.Empty }, Call(ct)))));
        admin.Subcommands.Add(unblacklist);

        var netCidr = CidrArgument();
        var blacklistNet = new Command("blacklist-net", "Blacklist a network prefix (registration, login and every key call from it).") { netCidr, duration, reason };
        blacklistNet.SetAction((result, ct) => common.RunAsync(result, async client =>
            common.Print(result, await client.BlacklistNetworkAsync(
                new BlacklistNetworkRequest { Prefix = Cidr(result.GetValue(netCidr)), Reason = RequiredReason(result.GetValue(reason)), Duration = DurationOf(result.GetValue(duration)) }, Call(ct)))));
        admin.Subcommands.Add(blacklistNet);

        var unNetCidr = CidrArgument();
        var unblacklistNet = new Command("unblacklist-net", "Lift a network prefix's blacklist.") { unNetCidr, reason };
        unblacklistNet.SetAction((result, ct) => common.RunAsync(result, async client =>
            common.Print(result, await client.UnblacklistNetworkAsync(new UnblacklistNetworkRequest { Prefix = Cidr(result.GetValue(unNetCidr)), Reason = result.GetValue(reason) ?? string.Empty }, Call(ct)))));
        admin.Subcommands.Add(unblacklistNet);

        var blacklists = new Command("blacklists", "List blacklisted keys and networks.");
        blacklists.SetAction((result, ct) => common.RunAsync(result, async client =>
        {
            var reply = await client.ListBlacklistAsync(new ListBlacklistRequest(), Call(ct));
            return common.Print(result, reply, () => AdminViews.Blacklist(reply));
        }));
        admin.Subcommands.Add(blacklists);

        var quarantine = new Command("quarantine", "List quarantined mirrors.");
        quarantine.SetAction((result, ct) => common.RunAsync(result, async client =>
        {
            var reply = await client.ListQuarantineAsync(new ListQuarantineRequest(), Call(ct));
            return common.Print(result, reply, () => AdminViews.Quarantine(reply));
        }));
        admin.Subcommands.Add(quarantine);

        var releaseKey = KeyArgument();
        var release = new Command("release", "Release a mirror from quarantine.") { releaseKey, reason };
        release.SetAction((result, ct) => common.RunAsync(result, async client =>
            common.Print(result, await client.ReleaseQuarantineAsync(new ReleaseQuarantineRequest { KeyId = result.GetValue(releaseKey)!, Reason = result.GetValue(reason) ?? string.Empty }, Call(ct)))));
        admin.Subcommands.Add(release);

        var limit = new Option<int>("--limit") { Description = "Entries to show, newest first [default: 50]", DefaultValueFactory = _ => 50 };
        var follow = new Option<bool>("--follow") { Description = "Keep printing entries as they are written" };
        var audit = new Command("audit", "Show the audit log (every admin and housekeeping action).") { limit, follow };
        audit.SetAction((result, ct) => common.RunAsync(result, async client =>
        {
            var count = result.GetValue(limit);
            if (count < 1)
            {
                throw new UsageException("--limit must be at least 1");
            }

            if (result.GetValue(follow))
            {
                using var watch = client.WatchAudit(new WatchAuditRequest { Tail = (uint)count }, new CallOptions(cancellationToken: ct));
                await foreach (var entry in watch.ResponseStream.ReadAllAsync(ct))
                {
                    Console.WriteLine(result.GetValue(common.JsonOption) ? AdminViews.Json(entry) : AdminViews.AuditLine(entry));
                }

                return ExitCodes.Success;
            }

            var reply = await client.ListAuditAsync(new ListAuditRequest { Limit = (uint)count }, Call(ct));
            return common.Print(result, reply, () => AdminViews.Audit(reply));
        }));
        admin.Subcommands.Add(audit);

        var stats = new Command("stats", "Figures at a glance (the same as /metrics).");
        stats.SetAction((result, ct) => common.RunAsync(result, async client =>
        {
            var reply = await client.GetStatsAsync(new GetStatsRequest(), Call(ct));
            return common.Print(result, reply, () => AdminViews.Stats(reply));
        }));
        admin.Subcommands.Add(stats);

        admin.SetAction(_ =>
        {
            Console.Error.WriteLine("ahm-coordinator admin: a command is required (mirrors, keys, revoke, blacklist, unblacklist, blacklist-net, unblacklist-net, blacklists, quarantine, release, audit, stats); see --help");
            return ExitCodes.Usage;
        });
        return admin;
    }

    private static Argument<string> KeyArgument() => new("KEY") { Description = "Key id (32 hex characters)" };

    private static Argument<string> CidrArgument() => new("CIDR") { Description = "Network prefix, e.g. 198.51.100.0/24 or 2001:db8::/48" };

    private static CallOptions Call(CancellationToken ct) => Calls.WithTimeout(TimeSpan.FromSeconds(30), cancellationToken: ct);

    private static string RequiredReason(string? reason) =>
        string.IsNullOrWhiteSpace(reason) ? throw new UsageException("--reason is required (it goes to the audit log and to the refused mirror)") : reason;

    private static Duration? DurationOf(string? text)
    {
        if (text is null)
        {
            return null;
        }

        return SettingsFile.TryParseDuration(text, out var span) && span > TimeSpan.Zero
            ? Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(span)
            : throw new UsageException($"--for: '{text}' is not a duration (e.g. 90d, 12h, 30m)");
    }

    private static string Cidr(string? text) =>
        SourceNetwork.TryParseCidr(text?.Trim(), out var network, out var error) ? network.ToString() : throw new UsageException(error);

    private sealed class UsageException(string message) : Exception(message);

    private sealed class Common(Option<FileInfo?> config, Option<string?> adminUrl, Option<string?> tokenFile, Option<bool> json)
    {
        public Option<bool> JsonOption => json;

        public async Task<int> RunAsync(ParseResult result, Func<AdminClient, Task<int>> action)
        {
            string url;
            try
            {
                var options = CoordinatorSettings.Load(result.GetValue(config)?.FullName);
                url = result.GetValue(adminUrl) ?? "http://" + options.AdminListen.Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal).Replace("*", "127.0.0.1", StringComparison.Ordinal);
                var tokenPath = result.GetValue(tokenFile) ?? Path.Combine(options.DataDir, AdminToken.FileName);
                string token;
                try
                {
                    token = (await File.ReadAllTextAsync(tokenPath)).Trim();
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    return Fail(ExitCodes.Usage, $"cannot read the admin token from {tokenPath}: {e.Message} (use --token-file)");
                }

                using var channel = GrpcChannels.Create(url);
                return await action(new AdminClient(channel.WithBearer(token)));
            }
            catch (SettingsException e)
            {
                return Fail(ExitCodes.Usage, e.Message);
            }
            catch (UsageException e)
            {
                return Fail(ExitCodes.Usage, e.Message);
            }
            catch (ArgumentException e)
            {
                return Fail(ExitCodes.Usage, $"--admin-url: {e.Message}");
            }
            catch (RpcException e)
            {
                return e.StatusCode switch
                {
                    StatusCode.Unavailable or StatusCode.DeadlineExceeded => Fail(ExitCodes.Unavailable, $"cannot reach the coordinator's admin service at {result.GetValue(adminUrl) ?? "the configured admin address"}: {e.Status.Detail}"),
                    StatusCode.Unauthenticated or StatusCode.PermissionDenied => Fail(ExitCodes.Refused, $"refused: {e.Status.Detail} (check --token-file)"),
                    StatusCode.InvalidArgument => Fail(ExitCodes.Usage, e.Status.Detail),
                    StatusCode.NotFound or StatusCode.FailedPrecondition => Fail(ExitCodes.Failure, e.Status.Detail),
                    _ => Fail(ExitCodes.Failure, $"{e.StatusCode}: {e.Status.Detail}"),
                };
            }
        }

        public int Print(ParseResult result, AdminActionReply reply) =>
            Print(result, reply, null, $"{reply.Summary} (audit #{reply.AuditId})");

        public int Print<T>(ParseResult result, T reply, Func<(Table Table, string Footer)> table)
            where T : IMessage => Print(result, reply, table, null);

        private int Print<T>(ParseResult result, T reply, Func<(Table Table, string Footer)>? table, string? line)
            where T : IMessage
        {
            if (result.GetValue(json))
            {
                Console.Out.WriteLine(AdminViews.Json(reply));
            }
            else if (table is not null)
            {
                var (t, footer) = table();
                if (Console.IsOutputRedirected)
                {
                    // Piped: no terminal width to fit, so never wrap a key id across lines.
                    AnsiConsole.Profile.Width = 1000;
                }

                AnsiConsole.Write(t);
                AnsiConsole.WriteLine(footer);
            }
            else
            {
                Console.Out.WriteLine(line);
            }

            return ExitCodes.Success;
        }

        private static int Fail(int code, string message)
        {
            Console.Error.WriteLine($"ahm-coordinator admin: {message}");
            return code;
        }
    }
}
