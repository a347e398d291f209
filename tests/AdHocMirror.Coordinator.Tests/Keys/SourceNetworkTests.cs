using System.Net;
using AdHocMirror.Coordinator.Keys;

namespace AdHocMirror.Coordinator.Tests.Keys;

public sealed class SourceNetworkTests
{
    [Theory]
    [InlineData("198.51.100.77", "198.51.100.0/24")]
    [InlineData("::ffff:198.51.100.77", "198.51.100.0/24")]
    [InlineData("2001:db8:1234:5678::1", "2001:db8:1234::/48")]
    [InlineData("::1", "::/48")]
    public void Addresses_count_against_their_24_or_48(string address, string network)
    {
        Assert.Equal(network, SourceNetwork.Of(IPAddress.Parse(address)).ToString());
        Assert.Equal(network, SourceNetwork.Describe(IPAddress.Parse(address)));
    }

    [Theory]
    [InlineData("198.51.100.0/24", true)]
    [InlineData("2001:db8::/48", true)]
    [InlineData("0.0.0.0/0", true)]
    [InlineData("198.51.100.1/24", false)]
    [InlineData("198.51.100.0/33", false)]
    [InlineData("198.51.100.0", false)]
    [InlineData("banana/8", false)]
    [InlineData("", false)]
    public void Cidr_prefixes_are_parsed_strictly(string text, bool valid)
    {
        Assert.Equal(valid, SourceNetwork.TryParseCidr(text, out var network, out var error));
        if (valid)
        {
            Assert.Equal(text, network.ToString());
        }
        else
        {
            Assert.NotEmpty(error);
        }
    }
}
