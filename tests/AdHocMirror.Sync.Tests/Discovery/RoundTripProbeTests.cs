using System.Net;
using System.Net.Sockets;
using AdHocMirror.Sync.Discovery;
using AdHocMirror.Testing;

namespace AdHocMirror.Sync.Tests.Discovery;

public sealed class RoundTripProbeTests
{
    [Fact]
    public async Task Candidate_that_does_not_answer_moves_behind_those_that_do_and_order_is_otherwise_kept()
    {
        using var first = new TcpListener(IPAddress.Parse("127.0.0.2"), 0);
        using var second = new TcpListener(IPAddress.Parse("127.0.0.3"), 0);
        first.Start();
        second.Start();
        var dead = new SyncSource($"rsync://127.0.0.4:{FreePort.Next(IPAddress.Parse("127.0.0.4"))}/gentoo-portage", false);
        var a = new SyncSource($"rsync://127.0.0.2:{((IPEndPoint)first.LocalEndpoint).Port}/gentoo-portage", false);
        var b = new SyncSource($"rsync://127.0.0.3:{((IPEndPoint)second.LocalEndpoint).Port}/gentoo-portage", false);
        var beyond = new SyncSource("rsync://127.0.0.5:1/gentoo-portage", false);

        var ordered = await new RoundTripProbe(3, TimeSpan.FromSeconds(2)).ReorderAsync([dead, a, b, beyond], CancellationToken.None);

        Assert.NotNull(a.RoundTrip);
        Assert.NotNull(b.RoundTrip);

        // Those that answered first, by 20 ms bands of their round trip (on a loaded machine loopback can take 20 ms
        // and more), in the coordinator's order within a band; then the silent one; then those not probed.
        var answered = new[] { a, b }.OrderBy(c => (long)(c.RoundTrip!.Value.TotalMilliseconds / 20)).ToList();
        Assert.Equal([.. answered, dead, beyond], ordered);
        Assert.Null(dead.RoundTrip);
        Assert.Null(beyond.RoundTrip); // beyond the probe count: not probed, keeps its place
    }

    [Fact]
    public async Task Probe_count_below_two_keeps_the_coordinator_order_without_connecting()
    {
        var only = new SyncSource("rsync://127.0.0.4:1/gentoo-portage", false);
        var other = new SyncSource("rsync://127.0.0.5:1/gentoo-portage", false);

        var ordered = await new RoundTripProbe(0, TimeSpan.FromSeconds(2)).ReorderAsync([only, other], CancellationToken.None);

        Assert.Equal([only, other], ordered);
        Assert.Null(only.RoundTrip);
    }
}
