using AdHocMirror.Contracts.V1;
using AdHocMirror.Testing;
using AdHocMirror.Testing.Load;

namespace AdHocMirror.Coordinator.Tests.Cluster;

/// <summary>
/// kill -9 of one of three coordinators on PostgreSQL while clients send about 1,000 Register calls/s spread over
/// all three: every registration whose reply arrived is in the database afterwards.
/// </summary>
public sealed class KillUnderLoadTests(PostgresServer server, Xunit.Abstractions.ITestOutputHelper output) : IClassFixture<PostgresServer>
{
    private const int Calls = 4000;
    private const int PerSecond = 1000;

    [SkippableFact]
    public async Task Kill_9_of_a_coordinator_under_a_thousand_registrations_per_second_loses_no_acknowledged_registration()
    {
        Skip.If(PostgresServer.SkipReason is not null, PostgresServer.SkipReason);
        await using var cluster = await CoordinatorProcesses.StartAsync(server, 3);
        var nodes = cluster.Nodes;
        var victim = nodes[0];
        var load = new RegistrationLoad([.. nodes.Select(n => (Func<RegistryClient>)(() => n.Registry))], Calls, PerSecond);

        var outcome = await load.RunAsync(actionAtShare: 0.4, victim.KillAsync);
        output.WriteLine(outcome.Describe());

        var stored = (await server.PsqlAsync("SELECT key_id FROM keys", cluster.Database)).Stdout
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
        var lost = outcome.Acknowledged.Where(k => !stored.Contains(k)).ToList();
        output.WriteLine($"in the database: {stored.Count} keys; acknowledged registrations lost: {lost.Count}");
        Assert.Empty(lost);
        Assert.True(outcome.AcknowledgedByTarget[0].Count > 0, "the killed coordinator acknowledged registrations before it died");
        Assert.True(outcome.Failed > 0, "calls to the killed coordinator failed after it died");
        Assert.All(outcome.AcknowledgedByTarget.Where(p => p.Key != 0), p => Assert.True(p.Value.Count > Calls / 3 * 9 / 10, "the survivors kept registering"));

        // What the survivors answer agrees with the database: one survivor lists every acknowledged key.
        var listed = (await nodes[1].Admin!.ListKeysAsync(new ListKeysRequest())).Keys.Select(k => k.KeyId).ToHashSet(StringComparer.Ordinal);
        output.WriteLine($"listed by a survivor's admin ListKeys: {listed.Count}; acknowledged but not listed: {outcome.Acknowledged.Count(k => !listed.Contains(k))}");
    }
}
