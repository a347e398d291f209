using System.Diagnostics;
using AdHocMirror.Contracts;
using AdHocMirror.Contracts.V1;
using AdHocMirror.Coordinator.Tests.Support;
using AdHocMirror.Testing;
using AdHocMirror.Testing.Load;
using Grpc.Core;
using Google.Protobuf.WellKnownTypes;

namespace AdHocMirror.Coordinator.Tests.Hosting;

public sealed class RestartTests(PostgresServer postgres, Xunit.Abstractions.ITestOutputHelper output) : IClassFixture<PostgresServer>
{
    [Fact]
    public Task Kill_9_loses_no_acknowledged_registration_rotation_revocation_blacklist_or_session() => KillAndRestartAsync([]);

    [SkippableFact]
    public async Task Kill_9_loses_nothing_acknowledged_on_postgresql_either()
    {
        Skip.If(PostgresServer.SkipReason is not null, PostgresServer.SkipReason);
        await KillAndRestartAsync(["--store", "postgres://" + PostgresServer.User + "@127.0.0.1:" + postgres.Port + "/" + Database(await postgres.CreateDatabaseAsync()), "--store-password-file", postgres.PasswordFile]);
    }

    private static string Database(string connectionString) => connectionString.Split(';').Single(p => p.StartsWith("Database=", StringComparison.Ordinal))["Database=".Length..];

    private static async Task KillAndRestartAsync(string[] storeArgs)
    {
        using var dir = new TempDir("ahm-restart");
        var port = FreePort.Next();
        var adminPort = FreePort.Next();
        string[] args = ["--listen", $"127.0.0.1:{port}", "--admin-listen", $"127.0.0.1:{adminPort}", "--metrics-listen", "off", "--data-dir", dir.Path, "--registrations-per-hour", "1000", .. storeArgs];

        using var channel = GrpcChannels.Create($"127.0.0.1:{port}");
        using var adminChannel = GrpcChannels.Create($"127.0.0.1:{adminPort}");
        var registry = new RegistryClient(channel);
        var sessions = new SessionsClient(channel);
        var registered = new List<RegisterReply>();
        RegisterReply rotated, revoked, blacklisted;
        string sessionId;

        var first = CoordinatorProgram.StartServe(args);
        try
        {
            await Eventually.TrueAsync(async () => (await registry.RegisterAsync(new())) is not null, "the coordinator answers");
            var admin = new AdminClient(adminChannel.WithBearer((await File.ReadAllTextAsync(dir.Combine("admin.token"))).Trim()));
            for (var i = 0; i < 20; i++)
            {
                registered.Add(await registry.RegisterAsync(new()));
            }

            var old = registered[0];
            rotated = await registry.RotateKeyAsync(new(), CoordinatorFixture.With(old));
            revoked = registered[1];
            await admin.RevokeKeyAsync(new() { KeyId = revoked.KeyId, Reason = "test revoke" });
            blacklisted = registered[2];
            await admin.BlacklistKeyAsync(new() { KeyId = blacklisted.KeyId, Reason = "test blacklist", Duration = Duration.FromTimeSpan(TimeSpan.FromDays(90)) });
            await admin.BlacklistNetworkAsync(new() { Prefix = "198.51.100.0/24", Reason = "test net" });
            sessionId = (await sessions.LoginAsync(CoordinatorFixture.Login(9), CoordinatorFixture.With(registered[3]))).SessionId;
        }
        finally
        {
            first.Kill(); // SIGKILL: no shutdown, no flush
            await first.WaitForExitAsync();
            first.Dispose();
        }

        var second = CoordinatorProgram.StartServe(args);
        try
        {
            var admin = new AdminClient(adminChannel.WithBearer((await File.ReadAllTextAsync(dir.Combine("admin.token"))).Trim()));
            await Eventually.TrueAsync(async () => (await admin.ListKeysAsync(new())) is not null, "the restarted coordinator answers");

            foreach (var key in registered.Skip(4))
            {
                await registry.RotateKeyAsync(new(), CoordinatorFixture.With(key)); // each acknowledged key still works
            }

            await Refused.WithAsync(StatusCode.Unauthenticated, RefusalCause.UnknownKey, () => registry.RotateKeyAsync(new(), CoordinatorFixture.With(registered[0])).ResponseAsync);
            await registry.RotateKeyAsync(new(), CoordinatorFixture.With(rotated));
            await Refused.WithAsync(StatusCode.PermissionDenied, RefusalCause.Revoked, () => registry.RotateKeyAsync(new(), CoordinatorFixture.With(revoked)).ResponseAsync);
            var e = await Refused.WithAsync(StatusCode.PermissionDenied, RefusalCause.Blacklisted, () => registry.RotateKeyAsync(new(), CoordinatorFixture.With(blacklisted)).ResponseAsync);
            Assert.Contains("test blacklist", e.Status.Detail, StringComparison.Ordinal);
            var blacklist = await admin.ListBlacklistAsync(new());
            Assert.Contains(blacklist.Entries, b => b.Prefix == "198.51.100.0/24" && b.Reason == "test net");

            // The open session came back: the mirror is known (and pinged) without logging in again.
            var mirrors = await admin.ListMirrorsAsync(new());
            Assert.Equal(registered[3].KeyId, Assert.Single(mirrors.Mirrors).KeyId);
            await sessions.ReportVersionAsync(new(), CoordinatorFixture.With(registered[3], sessionId));

            var audit = (await admin.ListAuditAsync(new())).Entries.Select(a => a.Action).ToList();
            Assert.Contains("revoke", audit);
            Assert.Contains("blacklist-key", audit);
            Assert.Contains("blacklist-network", audit);
        }
        finally
        {
            second.Kill();
            await second.WaitForExitAsync();
            second.Dispose();
        }
    }

    [Fact]
    public async Task Kill_9_under_a_thousand_registrations_per_second_on_sqlite_loses_no_acknowledged_registration()
    {
        using var dir = new TempDir("ahm-restart-load");
        var port = FreePort.Next();
        var adminPort = FreePort.Next();
        string[] args = ["--listen", $"127.0.0.1:{port}", "--admin-listen", $"127.0.0.1:{adminPort}", "--metrics-listen", "off", "--data-dir", dir.Path, "--registrations-per-hour", "100000"];
        using var channel = GrpcChannels.Create($"127.0.0.1:{port}");
        using var adminChannel = GrpcChannels.Create($"127.0.0.1:{adminPort}");
        var registry = new RegistryClient(channel);

        RegistrationLoad.Outcome outcome;
        var first = CoordinatorProgram.StartServe(args);
        try
        {
            await Eventually.TrueAsync(async () => (await registry.RegisterAsync(new())) is not null, "the coordinator answers", TimeSpan.FromSeconds(60));
            // Load until the kill at 60 % of the calls; the rest meet a dead port and fail.
            outcome = await new RegistrationLoad([() => registry], calls: 3000, perSecond: 1000).RunAsync(0.6, async () =>
            {
                first.Kill();
                await first.WaitForExitAsync();
            });
            output.WriteLine(outcome.Describe());
        }
        finally
        {
            first.Kill();
            await first.WaitForExitAsync();
            first.Dispose();
        }

        var second = CoordinatorProgram.StartServe(args);
        try
        {
            var admin = new AdminClient(adminChannel.WithBearer((await File.ReadAllTextAsync(dir.Combine("admin.token"))).Trim()));
            HashSet<string> listed = [];
            await Eventually.TrueAsync(async () => (listed = (await admin.ListKeysAsync(new())).Keys.Select(k => k.KeyId).ToHashSet(StringComparer.Ordinal)) is not null, "the restarted coordinator answers", TimeSpan.FromSeconds(60));
            var lost = outcome.Acknowledged.Where(k => !listed.Contains(k)).ToList();
            output.WriteLine($"after the restart on the same data directory: {listed.Count} keys; acknowledged registrations lost: {lost.Count}");
            Assert.Empty(lost);
            Assert.True(outcome.AcknowledgedCount > 1000, "the coordinator acknowledged registrations before it died");
        }
        finally
        {
            second.Kill();
            await second.WaitForExitAsync();
            second.Dispose();
        }
    }

    [Fact]
    public async Task Serve_refuses_bad_settings_with_the_usage_exit_code()
    {
        using var dir = new TempDir("ahm-serve");
        var result = await CoordinatorProgram.RunAsync("serve", "--listen", "nonsense", "--data-dir", dir.Path);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--listen", result.Stderr, StringComparison.Ordinal);

        result = await CoordinatorProgram.RunAsync("serve", "--ping-interval", "soon", "--data-dir", dir.Path);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--ping-interval", result.Stderr, StringComparison.Ordinal);

        var blocked = dir.Combine("not-a-dir");
        await File.WriteAllTextAsync(blocked, "a file where the data directory should be");
        result = await CoordinatorProgram.RunAsync("serve", "--data-dir", Path.Combine(blocked, "sub"));
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("data directory", result.Stderr, StringComparison.Ordinal);

        var config = dir.Combine("coordinator.conf");
        await File.WriteAllTextAsync(config, "key_lifetime = 30d\nping_address = sometimes\n");
        result = await CoordinatorProgram.RunAsync("serve", "--config", config, "--data-dir", dir.Path);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("ping_address", result.Stderr, StringComparison.Ordinal);

        result = await CoordinatorProgram.RunAsync("serve", "--store", "postgres://ahm:secret@127.0.0.1/ahm", "--data-dir", dir.Path);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("store_password_file", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", result.Stderr, StringComparison.Ordinal);

        // A database nobody answers for: a message and exit 1, not a stack trace.
        result = await CoordinatorProgram.RunAsync("serve", "--store", $"postgres://ahm@127.0.0.1:{FreePort.Next()}/ahm", "--data-dir", dir.Path, "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0", "--metrics-listen", "off");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("database is unreachable", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
    }
}
