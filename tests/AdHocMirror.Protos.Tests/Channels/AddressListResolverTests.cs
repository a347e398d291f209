using System.Net;

namespace AdHocMirror.Protos.Tests.Channels;

/// <summary>Several coordinator URLs, and every address a name resolves to, become the channel's addresses.</summary>
public sealed class AddressListResolverTests
{
    [Fact]
    public async Task A_name_gives_one_address_per_resolved_address_each_checked_against_the_name()
    {
        var system = await Dns.GetHostAddressesAsync("localhost");
        var targets = ServiceAddresses.Parse("https://localhost:7470").Targets;

        var (addresses, failures) = await AddressListResolver.ResolveAllAsync(targets, CancellationToken.None);

        Assert.Empty(failures);
        // One per address the system gives (127.0.0.1 and ::1 on most machines), in its order.
        Assert.Equal(system.Select(a => a.ToString()).Distinct(), addresses.Select(a => a.EndPoint.Host));
        Assert.All(addresses, a => Assert.Equal(7470, a.EndPoint.Port));
        Assert.All(addresses, a => Assert.Equal("localhost:7470", AddressListResolver.HostNameOf(a)));
    }

    [Fact]
    public async Task This_machines_name_gives_every_address_it_has()
    {
        // Usually several (loopback, LAN, IPv6): each one is a coordinator to try. Resolving sends nothing anywhere.
        var name = Dns.GetHostName();
        var system = (await Dns.GetHostAddressesAsync(name)).Select(a => a.ToString()).Distinct().ToList();

        var (addresses, _) = await AddressListResolver.ResolveAllAsync(ServiceAddresses.Parse($"http://{name}:7470").Targets, CancellationToken.None);

        Assert.Equal(system, addresses.Select(a => a.EndPoint.Host));
        Assert.All(addresses, a => Assert.Equal($"{name}:7470", AddressListResolver.HostNameOf(a)));
    }

    [Fact]
    public async Task Several_urls_keep_their_order_literals_need_no_name_and_repeats_count_once()
    {
        var targets = ServiceAddresses.Parse("http://127.0.0.3:7001, http://[::1]:7002", "http://127.0.0.2:7003 http://127.0.0.3:7001").Targets;

        var (addresses, failures) = await AddressListResolver.ResolveAllAsync(targets, CancellationToken.None);

        Assert.Empty(failures);
        Assert.Equal(["127.0.0.3:7001", "::1:7002", "127.0.0.2:7003"], addresses.Select(a => $"{a.EndPoint.Host}:{a.EndPoint.Port}"));
        Assert.All(addresses, a => Assert.Null(AddressListResolver.HostNameOf(a)));
    }

    [Theory]
    [InlineData("https://a:1 http://b:2", "all https:// or all http://")]
    [InlineData("ftp://a:1", "is not a gRPC address")]
    [InlineData(" , ", "an address is required")]
    public void Lists_that_cannot_make_one_channel_are_refused_saying_why(string text, string expected)
    {
        Assert.False(ServiceAddresses.TryParse([text], out _, out var error));
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }
}
