using System.Text.Json;
using AdHocMirror.Coordinator.Tests.Support;
using AdHocMirror.Hosting;
using AdHocMirror.Testing;

namespace AdHocMirror.Coordinator.Tests.Cli;

/// <summary>The admin CLI as staff run it: the built program, against a running coordinator.</summary>
public sealed class AdminCommandLineTests
{
    [Fact]
    public async Task Commands_act_and_print_json_and_tables()
    {
        await using var c = await CoordinatorFixture.StartAsync();
        var tokenFile = Path.Combine(c.Options.DataDir, "admin.token");
        Task<ExternalProcess.Result> Admin(params string[] args) => CoordinatorProgram.RunAsync(["admin", "--admin-url", c.AdminAddress, "--token-file", tokenFile, .. args]);
        static JsonElement Json(ExternalProcess.Result r)
        {
            Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}: {r.Stderr}");
            return JsonDocument.Parse(r.Stdout).RootElement;
        }

        var key = await c.RegisterAsync();
        var other = await c.RegisterAsync();
        await c.Sessions.LoginAsync(CoordinatorFixture.Login(9), CoordinatorFixture.With(other));

        var keys = Json(await Admin("keys", "--json")).GetProperty("keys").EnumerateArray().Select(k => k.GetProperty("keyId").GetString()).ToList();
        Assert.Equal([key.KeyId, other.KeyId], keys);

        var mirrors = Json(await Admin("mirrors", "--json")).GetProperty("mirrors");
        Assert.Equal(other.KeyId, Assert.Single(mirrors.EnumerateArray()).GetProperty("keyId").GetString());
        Assert.Equal("MIRROR_STATE_PINGING", mirrors[0].GetProperty("state").GetString());
        Assert.Empty(Json(await Admin("mirrors", "--state", "online", "--json")).GetProperty("mirrors").EnumerateArray());

        var table = await Admin("mirrors");
        Assert.Equal(0, table.ExitCode);
        Assert.Contains(other.KeyId, table.Stdout, StringComparison.Ordinal);
        Assert.Contains("pinging", table.Stdout, StringComparison.Ordinal);

        var blacklisted = Json(await Admin("blacklist", other.KeyId, "--for", "90d", "--reason", "stale tree", "--json"));
        Assert.True(blacklisted.GetProperty("auditId").GetString() is { Length: > 0 });
        Assert.Empty(c.Directory.List());
        var entries = Json(await Admin("blacklists", "--json")).GetProperty("entries");
        Assert.Equal("stale tree", entries[0].GetProperty("reason").GetString());
        Assert.Equal(0, (await Admin("unblacklist", other.KeyId, "--reason", "ok")).ExitCode);
        var again = await Admin("unblacklist", other.KeyId);
        Assert.Equal(ExitCodes.Failure, again.ExitCode);
        Assert.Contains("not blacklisted", again.Stderr, StringComparison.Ordinal);

        var net = await Admin("blacklist-net", "198.51.100.0/24", "--for", "12h", "--reason", "farm");
        Assert.Equal(0, net.ExitCode);
        Assert.Contains("198.51.100.0/24", net.Stdout, StringComparison.Ordinal);
        Assert.Equal(0, (await Admin("unblacklist-net", "198.51.100.0/24")).ExitCode);

        var revoke = await Admin("revoke", key.KeyId, "--reason", "asked to leave");
        Assert.Equal(0, revoke.ExitCode);
        var all = Json(await Admin("keys", "--all", "--json")).GetProperty("keys").EnumerateArray().ToList();
        Assert.Equal("KEY_STATE_REVOKED", all.Single(k => k.GetProperty("keyId").GetString() == key.KeyId).GetProperty("state").GetString());

        var audit = Json(await Admin("audit", "--json")).GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("action").GetString()).ToList();
        Assert.Equal(["revoke", "unblacklist-network", "blacklist-network", "unblacklist-key", "blacklist-key"], audit);
        Assert.Empty(Json(await Admin("quarantine", "--json")).GetProperty("entries").EnumerateArray());
        var stats = Json(await Admin("stats", "--json")).GetProperty("values");
        Assert.Equal(2, stats.GetProperty("ahm_registrations_total").GetDouble());
        var statsTable = await Admin("stats");
        Assert.Contains("ahm_mirrors{state=\"online\"}", statsTable.Stdout, StringComparison.Ordinal);

        // Without flags, the admin address and token file come from the coordinator's own settings file.
        var config = Path.Combine(c.Options.DataDir, "coordinator.conf");
        await File.WriteAllTextAsync(config, $"admin_listen = {new Uri(c.AdminAddress).Authority}\ndata_dir = {c.Options.DataDir}\n");
        var viaConfig = await CoordinatorProgram.RunAsync("admin", "--config", config, "keys", "--all", "--json");
        Assert.Equal(2, Json(viaConfig).GetProperty("keys").GetArrayLength());
    }

    [Fact]
    public async Task Errors_give_a_clear_message_and_a_non_zero_exit_code()
    {
        await using var c = await CoordinatorFixture.StartAsync();
        var tokenFile = Path.Combine(c.Options.DataDir, "admin.token");
        Task<ExternalProcess.Result> Admin(params string[] args) => CoordinatorProgram.RunAsync(["admin", "--admin-url", c.AdminAddress, "--token-file", tokenFile, .. args]);

        var results = await Task.WhenAll(
            Admin("revoke", new string('c', 32)),
            Admin("revoke", "not-a-key"),
            Admin("blacklist-net", "10.0.0.1/8", "--reason", "x"),
            Admin("blacklist-net", "banana", "--reason", "x"),
            Admin("blacklist", new string('c', 32), "--for", "ever", "--reason", "x"),
            Admin("blacklist", new string('c', 32)),
            CoordinatorProgram.RunAsync("admin", "--admin-url", c.AdminAddress, "--token-file", "/nonexistent/admin.token", "keys"),
            CoordinatorProgram.RunAsync("admin", "--admin-url", $"http://127.0.0.1:{FreePort.Next()}", "--token-file", tokenFile, "keys"));
        var wrongToken = Path.Combine(c.Options.DataDir, "wrong.token");
        await File.WriteAllTextAsync(wrongToken, "0123456789abcdef0123456789abcdef\n");
        var refused = await CoordinatorProgram.RunAsync("admin", "--admin-url", c.AdminAddress, "--token-file", wrongToken, "keys");

        (int Code, string Message)[] expected =
        [
            (ExitCodes.Failure, "unknown key"),
            (ExitCodes.Usage, "not a key id"),
            (ExitCodes.Usage, "beyond the /8 prefix"),
            (ExitCodes.Usage, "not a CIDR prefix"),
            (ExitCodes.Usage, "not a duration"),
            (ExitCodes.Usage, "--reason is required"),
            (ExitCodes.Usage, "admin token"),
            (ExitCodes.Unavailable, "cannot reach"),
        ];
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(expected[i].Code == results[i].ExitCode, $"case {i}: exit {results[i].ExitCode}, stderr {results[i].Stderr}");
            Assert.Contains(expected[i].Message, results[i].Stderr, StringComparison.Ordinal);
        }

        Assert.Equal(ExitCodes.Refused, refused.ExitCode);
        Assert.Contains("wrong admin token", refused.Stderr, StringComparison.Ordinal);
        Assert.Empty((await c.Admin.ListAuditAsync(new())).Entries);
    }
}
