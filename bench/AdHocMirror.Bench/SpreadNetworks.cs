using System.Buffers.Binary;
using System.Net;
using AdHocMirror.Coordinator.Matching.Privacy;
using Microsoft.Extensions.DependencyInjection;

namespace AdHocMirror.Bench;

/// <summary>
/// The benchmark's load comes from one address, but real FindMirror traffic comes from many networks,
/// each asking once or twice an hour. So with the budget on, every call is made to come from an IPv6 /48
/// never seen before: the costly case for the budget and the rate limit (a new keyed tag, a new record in
/// each, eviction once 100,000 are remembered, a search for new volunteers), never the cheap one of a
/// network whose budget is spent. The tag is still computed the coordinator's way, from an address.
/// With <c>callsPerNetwork</c> above 1, each network makes that many calls in a row (a sync asks once, a
/// retry or a second protocol asks again): the later ones find its volunteers already revealed.
/// </summary>
internal sealed class SpreadNetworks(RevealWindows windows, int callsPerNetwork) : ClientNetworks(windows)
{
    private long _next;

    public static Action<IServiceCollection> Replace(int callsPerNetwork) =>
        services => services.AddSingleton<ClientNetworks>(provider => new SpreadNetworks(provider.GetRequiredService<RevealWindows>(), Math.Max(1, callsPerNetwork)));

    public override ClientNetwork Of(IPAddress? peer)
    {
        Span<byte> bytes = stackalloc byte[16];
        bytes.Clear();
        // 2a00:NNNN:NNNN::/48 and onwards: the counter fills the network bits.
        BinaryPrimitives.WriteUInt64BigEndian(bytes, 0x2a00_0000_0000_0000UL | ((ulong)(Interlocked.Increment(ref _next) / callsPerNetwork) << 16));
        return base.Of(new IPAddress(bytes));
    }
}
