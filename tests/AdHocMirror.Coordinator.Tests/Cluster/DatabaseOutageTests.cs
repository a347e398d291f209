using AdHocMirror.Contracts;
using AdHocMirror.Contracts.V1;
using AdHocMirror.Coordinator.Tests.Matching;
using AdHocMirror.Testing;
using Grpc.Core;
using Google.Protobuf.WellKnownTypes;

namespace AdHocMirror.Coordinator.Tests.Cluster;

/// <summary>The database away: coordinators answer FindMirror from memory, refuse writes with UNAVAILABLE, and recover by themselves.</summary>
public sealed class DatabaseOutageTests(PostgresServer server) : IClassFixture<PostgresServer>
{
    [SkippableFact]
    public async Task While_the_database_is_stopped_FindMirror_answers_and_writes_are_unavailable_then_everything_resumes()
    {
        await using var cluster = await CoordinatorCluster.StartAsync(server, 2);
        var (a, b) = (cluster.Nodes[0], cluster.Nodes[1]);
        var (key, _, _) = await cluster.AddMirrorAsync(a, b, host: 2);
        await Eventually.TrueAsync(() => cluster.Nodes.All(n => n.Offers(key.KeyId)), "both offer the mirror", TimeSpan.FromSeconds(10));
        foreach (var node in cluster.Nodes)
        {
            node.Get<AdHocMirror.Coordinator.Cluster.CapacityShares>().SettleNow();
        }

        await server.StopAsync();
        try
        {
            var stoppedAt = DateTime.UtcNow;
            while (DateTime.UtcNow - stoppedAt < TimeSpan.FromSeconds(5))
            {
                foreach (var node in cluster.Nodes)
                {
                    var reply = await node.Matching.FindMirrorAsync(Swarm.Find(current: Swarm.V1, count: 1));
                    var candidate = Assert.Single(reply.Candidates);
                    Assert.Equal(key.KeyId, candidate.MirrorId);
                    // The report gives the place back (in memory: a successful sync writes nothing).
                    await node.Matching.ReportSyncAsync(new ReportSyncRequest { LeaseId = candidate.LeaseId, Outcome = SyncOutcome.Success, Verified = candidate.Version });
                }

                await Task.Delay(500);
            }

            var e = await Assert.ThrowsAsync<RpcException>(() => a.Registry.RegisterAsync(new RegisterRequest()).ResponseAsync);
            Assert.Equal(StatusCode.Unavailable, e.StatusCode);
            e = await Assert.ThrowsAsync<RpcException>(() => b.Admin.RevokeKeyAsync(new RevokeKeyRequest { KeyId = key.KeyId, Reason = "x" }).ResponseAsync);
            Assert.Equal(StatusCode.Unavailable, e.StatusCode);
        }
        finally
        {
            await server.StartAsync();
        }

        // Writes resume without a restart, and what one decides reaches the other again.
        await Eventually.TrueAsync(async () => (await a.Registry.RegisterAsync(new RegisterRequest())) is not null, "registration works again", TimeSpan.FromSeconds(15));
        await b.Admin.BlacklistKeyAsync(new BlacklistKeyRequest { KeyId = key.KeyId, Reason = "after the outage", Duration = Duration.FromTimeSpan(TimeSpan.FromHours(1)) });
        await Eventually.TrueAsync(() => !a.Offers(key.KeyId), "the blacklist reaches the other", TimeSpan.FromSeconds(3));
        Assert.Contains(cluster.Nodes, n => n.Offers(key.KeyId) == false);
    }
}
