using System.Globalization;
using System.Net;
using AdHocMirror.Contracts.V1;
using AdHocMirror.EndToEnd.Tests.Scenarios;
using AdHocMirror.Testing;
using AdHocMirror.Testing.Hostile;
using Grpc.Health.V1;
using Xunit.Abstractions;

namespace AdHocMirror.EndToEnd.Tests.Listeners;

/// <summary>
/// Every listener of the real programs (coordinator public and admin, a volunteer's ping listener) under what anyone who
/// can reach a port may send: deadlines that fire mid-call, calls that never send their body, and malformed requests.
/// Afterwards each listener is still SERVING, a valid call succeeds, and neither process grew by 50 MB.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class HostileCallerTests(ITestOutputHelper output)
{
    /// <summary>Kestrel ends a call whose body has not started after the 5 s grace period; the rest is scheduling slack on a busy machine.</summary>
    private static readonly TimeSpan BodilessBound = TimeSpan.FromSeconds(20);

    private static readonly string[] PublicMethods =
    [
        "/ahm.v1.Registry/Register", "/ahm.v1.Registry/RotateKey", "/ahm.v1.Registry/RetireKey",
        "/ahm.v1.Sessions/Login", "/ahm.v1.Sessions/ReportVersion", "/ahm.v1.Sessions/Logout",
        "/ahm.v1.Matching/FindMirror", "/ahm.v1.Matching/ReportSync",
        "/grpc.health.v1.Health/Check", "/grpc.health.v1.Health/Watch", "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
        "/ahm.v1.Admin/ListMirrors",
    ];

    private static readonly string[] AdminMethods =
    [
        "/ahm.v1.Admin/ListMirrors", "/ahm.v1.Admin/RevokeKey", "/ahm.v1.Admin/BlacklistNetwork", "/ahm.v1.Admin/WatchAudit",
        "/ahm.v1.Admin/GetStats", "/grpc.health.v1.Health/Check", "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
    ];

    private static readonly string[] PingMethods = ["/ahm.v1.MirrorPing/Ping", "/grpc.health.v1.Health/Check", "/grpc.health.v1.Health/Watch"];

    [Fact]
    public Task Every_listener_survives_deadlines_bodiless_calls_and_malformed_requests() => ScenarioSwarm.RunAsync(new SwarmPlan
    {
        Volunteers = [new("target", 2, "Augsburg, DE", 48.37, 10.90)],
    }, output, async swarm =>
    {
        var volunteer = swarm["target"];
        var pingAddress = (await swarm.MirrorsAsync()).Single().Endpoints.PingAddress;
        var listeners = new (string Name, string Address, string[] Methods, int Pid)[]
        {
            ("coordinator public", $"127.0.0.1:{swarm.CoordinatorPort}", PublicMethods, swarm.Coordinator.Id),
            ("coordinator admin", $"127.0.0.1:{swarm.AdminPort}", AdminMethods, swarm.Coordinator.Id),
            ("volunteer ping", pingAddress.Replace("http://", string.Empty, StringComparison.Ordinal), PingMethods, volunteer.Process.Id),
        };
        var rssBefore = new[] { Rss(swarm.Coordinator.Id), Rss(volunteer.Process.Id) };
        var seed = 15;
        foreach (var (name, address, methods, pid) in listeners)
        {
            using var channel = GrpcChannels.Create("http://" + address);
            var deadlines = await HostileCaller.DeadlinesAsync(channel, calls: 1000);
            output.WriteLine($"{name}: 1,000 watches with deadlines on one connection: {string.Join(", ", deadlines.Select(p => $"{p.Key} {p.Value}"))}");
            Assert.Equal(1000, deadlines.GetValueOrDefault(StatusCode.DeadlineExceeded));

            var slowest = await HostileCaller.BodilessCallsAsync(address, methods[0], calls: 300, giveUpAfter: TimeSpan.FromSeconds(60));
            output.WriteLine($"{name}: 300 calls without a body, all ended by the server after at most {slowest.TotalSeconds:F1} s");
            Assert.True(slowest < BodilessBound, $"{name}: a call that never sent its body was still open after {slowest.TotalSeconds:F1} s");

            var report = await HostileCaller.FuzzAsync(address, methods, count: 8000, seed: seed++);
            output.WriteLine($"{name}: {report.Total:N0} malformed requests\n{report}");
            Assert.Equal(8000, report.Total);
            Assert.Equal(0, report.Count("hung"));
            Assert.Equal(0, report.Count(nameof(StatusCode.Unknown)));
            Assert.True(report.Leaks.Count == 0, $"{name}: messages that leak internals:\n{string.Join('\n', report.Leaks)}");

            Assert.False(swarm.Coordinator.HasExited, "the coordinator died");
            Assert.False(volunteer.Process.HasExited, "the volunteer's daemon died");
            var health = await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest(), Calls.WithTimeout(TimeSpan.FromSeconds(10)));
            Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, health.Status);
        }

        // Real calls still work: a new volunteer registers (from a network the fuzzing did not use up), staff list mirrors,
        // and the target is still online, answering the coordinator's pings.
        using var fresh = GrpcChannels.Create(swarm.CoordinatorUrl, new ChannelSettings { LocalAddress = IPAddress.Parse("127.0.9.1") });
        var key = await new RegistryClient(fresh).RegisterAsync(new RegisterRequest { Software = "hostile-test" }, Calls.WithTimeout(TimeSpan.FromSeconds(10)));
        Assert.Equal(32, key.KeyId.Length);
        await swarm.WaitForMirrorAsync(volunteer, m => m.State == MirrorState.Online && m.LastPing is not null && m.LastPing.ToDateTimeOffset() > DateTimeOffset.UtcNow.AddSeconds(-30), "still pinged and online");

        var rssAfter = new[] { Rss(swarm.Coordinator.Id), Rss(volunteer.Process.Id) };
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"RSS coordinator {rssBefore[0] / 1e6:F0} → {rssAfter[0] / 1e6:F0} MB, volunteer {rssBefore[1] / 1e6:F0} → {rssAfter[1] / 1e6:F0} MB"));
        Assert.True(rssAfter[0] - rssBefore[0] < 50_000_000, $"coordinator grew by {(rssAfter[0] - rssBefore[0]) / 1e6:F0} MB");
        Assert.True(rssAfter[1] - rssBefore[1] < 50_000_000, $"volunteer grew by {(rssAfter[1] - rssBefore[1]) / 1e6:F0} MB");
    });

    private static long Rss(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
    }
}
