using System.Net;
using AdHocMirror.Coordinator.Matching.Privacy;
using AdHocMirror.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace AdHocMirror.Coordinator.Tests.Matching.Privacy;

public sealed class ClientNetworksTests
{
    /// <summary>The reference implementation's vectors (key 00..0f, message 00..len-1), as Rust's std SipHasher gives them too.</summary>
    [Theory]
    [InlineData(0, 0x726fdb47dd0e0e31UL)]
    [InlineData(1, 0x74f839c593dc67fdUL)]
    [InlineData(7, 0xab0200f58b01d137UL)]
    [InlineData(8, 0x93f5f5799a932462UL)]
    [InlineData(9, 0x9e0082df0ba9e4b0UL)]
    [InlineData(15, 0xa129ca6149be45e5UL)]
    [InlineData(16, 0x3f2acc7f57c29bdbUL)]
    [InlineData(17, 0x699ae9f52cbe4794UL)]
    [InlineData(63, 0x958a324ceb064572UL)]
    public void SipHash_gives_the_reference_vectors(int length, ulong expected)
    {
        var message = Enumerable.Range(0, length).Select(i => (byte)i).ToArray();

        Assert.Equal(expected, SipHash.Hash(0x0706050403020100UL, 0x0f0e0d0c0b0a0908UL, message));
    }

    [Fact]
    public void A_network_is_its_prefix_under_the_window_secret()
    {
        var clock = new ManualClock(new DateTimeOffset(2026, 12, 7, 10, 0, 0, TimeSpan.Zero));
        var options = new PrivacyOptions();
        var windows = new RevealWindows(options, clock, NullLogger<RevealWindows>.Instance);
        var networks = new ClientNetworks(windows);
        var sameWindowElsewhere = new ClientNetworks(windows);

        var a = networks.Of(IPAddress.Parse("192.0.2.1"));
        Assert.Equal(a, networks.Of(IPAddress.Parse("192.0.2.200"))); // same /24
        Assert.Equal(a, sameWindowElsewhere.Of(IPAddress.Parse("::ffff:192.0.2.7"))); // same secret, mapped address
        Assert.NotEqual(a.Tag, networks.Of(IPAddress.Parse("192.0.3.1")).Tag);
        Assert.Equal(networks.Of(IPAddress.Parse("2001:db8:1::1")), networks.Of(IPAddress.Parse("2001:db8:1:ffff::2"))); // same /48
        Assert.NotEqual(networks.Of(IPAddress.Parse("2001:db8:1::1")).Tag, networks.Of(IPAddress.Parse("2001:db8:2::1")).Tag);

        clock.Advance(options.RevealWindow);
        var next = networks.Of(IPAddress.Parse("192.0.2.1"));
        Assert.Equal(a.Window + 1, next.Window);
        Assert.NotEqual(a.Tag, next.Tag); // a new window's secret: unrelated tags and seeds
        Assert.NotEqual(a.Seed, next.Seed);
    }
}
