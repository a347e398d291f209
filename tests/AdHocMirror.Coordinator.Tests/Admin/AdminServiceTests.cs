using System.Net;
using AdHocMirror.Contracts;
using AdHocMirror.Contracts.V1;
using AdHocMirror.Coordinator.Tests.Support;
using Grpc.Core;
using Google.Protobuf.WellKnownTypes;

namespace AdHocMirror.Coordinator.Tests.Admin;

public sealed class AdminServiceTests
{
    [Fact]
    public async Task Token_file_is_created_private_and_a_wrong_or_missing_token_is_unauthenticated()
    {
        await using var c = await CoordinatorFixture.StartAsync();
        var path = Path.Combine(c.Options.DataDir, "admin.token");
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }

        Assert.True(c.AdminToken.Length >= 32);

        var wrong = new AdminClient(c.AdminChannel.WithBearer(c.AdminToken[..^1] + (c.AdminToken[^1] == '0' ? '1' : '0')));
        Assert.Equal(StatusCode.Unauthenticated, (await Assert.ThrowsAsync<RpcException>(() => wrong.ListKeysAsync(new()).ResponseAsync)).StatusCode);
        Assert.Equal(StatusCode.Unauthenticated, (await Assert.ThrowsAsync<RpcException>(() => new AdminClient(c.AdminChannel.WithBearer(string.Empty)).ListMirrorsAsync(new()).ResponseAsync)).StatusCode);
        Assert.Equal(StatusCode.Unauthenticated, (await Assert.ThrowsAsync<RpcException>(() =>
            new AdminClient(c.AdminChannel).GetStatsAsync(new GetStatsRequest()).ResponseAsync)).StatusCode);
        Assert.Equal(StatusCode.Unauthenticated, (await Assert.ThrowsAsync<RpcException>(async () =>
        {
            await foreach (var _ in wrong.WatchAudit(new()).ResponseStream.ReadAllAsync())
            {
            }
        })).StatusCode);

        // The admin service is not on the public listener.
        var onPublic = new AdminClient(c.Channel.WithBearer(c.AdminToken));
        Assert.Equal(StatusCode.Unimplemented, (await Assert.ThrowsAsync<RpcException>(() => onPublic.ListKeysAsync(new()).ResponseAsync)).StatusCode);

        // A restart on the same data dir keeps the token.
        var token = c.AdminToken;
        await c.StopAsync();
        await using var again = await CoordinatorFixture.StartAsync(dataDir: c.Options.DataDir);
        Assert.Equal(token, again.AdminToken);
        await again.Admin.ListKeysAsync(new());
    }

    [Fact]
    public async Task Every_admin_action_is_audited_with_time_actor_subject_and_reason_and_streamed_to_watchers()
    {
        await using var c = await CoordinatorFixture.StartAsync();
        var key = await c.RegisterAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var watched = new List<AuditEntry>();
        var watcher = Task.Run(async () =>
        {
            // A tail covers whatever was written before the stream opened; live entries follow without duplicates.
            await foreach (var entry in c.Admin.WatchAudit(new WatchAuditRequest { Tail = 100 }, new CallOptions(cancellationToken: cts.Token)).ResponseStream.ReadAllAsync())
            {
                lock (watched)
                {
                    watched.Add(entry);
                }
            }
        });
        await c.Admin.BlacklistKeyAsync(new() { KeyId = key.KeyId, Reason = "r1", Duration = Duration.FromTimeSpan(TimeSpan.FromDays(1)) });
        await c.Admin.UnblacklistKeyAsync(new() { KeyId = key.KeyId, Reason = "r2" });
        await c.Admin.BlacklistNetworkAsync(new() { Prefix = "2001:db8::/48", Reason = "r3" });
        await c.Admin.UnblacklistNetworkAsync(new() { Prefix = "2001:db8::/48", Reason = "r4" });
        await c.Admin.RevokeKeyAsync(new() { KeyId = key.KeyId, Reason = "r5" });

        var audit = (await c.Admin.ListAuditAsync(new())).Entries;
        Assert.Equal(["revoke", "unblacklist-network", "blacklist-network", "unblacklist-key", "blacklist-key"], audit.Select(a => a.Action));
        Assert.All(audit, a =>
        {
            Assert.Equal("admin", a.Actor);
            Assert.Equal(c.Clock.GetUtcNow(), a.At.ToDateTimeOffset());
        });
        Assert.Equal(key.KeyId, audit[0].Subject);
        Assert.Equal("2001:db8::/48", audit[1].Subject);
        Assert.StartsWith("r1", audit[4].Reason, StringComparison.Ordinal);
        Assert.Equal("r5", audit[0].Reason);

        var page = (await c.Admin.ListAuditAsync(new() { Limit = 2, BeforeId = audit[1].Id })).Entries;
        Assert.Equal([audit[2].Id, audit[3].Id], page.Select(a => a.Id));

        // Watchers see what late joiners get as a tail.
        var tail = new List<AuditEntry>();
        await foreach (var entry in c.Admin.WatchAudit(new() { Tail = 2 }, new CallOptions(cancellationToken: cts.Token)).ResponseStream.ReadAllAsync())
        {
            tail.Add(entry);
            if (tail.Count == 2)
            {
                break;
            }
        }

        Assert.Equal([audit[1].Id, audit[0].Id], tail.Select(a => a.Id));
        await Testing.Eventually.TrueAsync(() => { lock (watched) { return watched.Count == 5; } }, "the watcher saw all five actions");
        lock (watched)
        {
            Assert.Equal(audit.Reverse().Select(a => a.Id), watched.Select(a => a.Id));
        }

        cts.Cancel();
        await Assert.ThrowsAnyAsync<Exception>(() => watcher);
    }

    [Fact]
    public async Task Metrics_and_health_are_served_over_plain_http_and_on_the_admin_listener()
    {
        await using var c = await CoordinatorFixture.StartAsync();
        var key = await c.RegisterAsync();
        await c.Admin.BlacklistNetworkAsync(new() { Prefix = "127.0.0.0/8", Reason = "x" });
        await Refused.WithAsync(StatusCode.PermissionDenied, RefusalCause.NetworkBlacklisted, () => c.RegisterAsync());
        await Refused.WithAsync(StatusCode.PermissionDenied, RefusalCause.NetworkBlacklisted, () => c.Sessions.LoginAsync(CoordinatorFixture.Login(9), CoordinatorFixture.With(key)).ResponseAsync);

        using var http = new HttpClient();
        var metrics = await http.GetStringAsync($"{c.MetricsAddress}/metrics");
        Assert.Contains("# TYPE ahm_registrations_total counter", metrics, StringComparison.Ordinal);
        Assert.Contains("ahm_registrations_total 1", metrics, StringComparison.Ordinal);
        Assert.Contains($"ahm_refusals_total{{cause=\"{RefusalCause.NetworkBlacklisted}\"}} 2", metrics, StringComparison.Ordinal);
        Assert.Contains("ahm_mirrors{state=\"online\"} 0", metrics, StringComparison.Ordinal);
        Assert.Contains("ahm_ping_latency_seconds_bucket{le=\"+Inf\"}", metrics, StringComparison.Ordinal);
        Assert.Equal("ok\n", await http.GetStringAsync($"{c.MetricsAddress}/healthz"));

        var h2 = new HttpRequestMessage(HttpMethod.Get, $"{c.AdminAddress}/metrics") { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
        using var response = await http.SendAsync(h2);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("ahm_sessions", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var stats = await c.Admin.GetStatsAsync(new());
        Assert.Equal(1, stats.Values["ahm_registrations_total"]);
        Assert.Equal(1, stats.Values["ahm_keys_live"]);
    }
}
