using System.Net;
using System.Net.Sockets;
using Grpc.Core;
using Grpc.Net.Client.Balancer;
using Microsoft.Extensions.Logging;

namespace AdHocMirror.Clients;

/// <summary>
/// grpc-dotnet resolver for <see cref="ServiceAddresses"/>: every listed URL, and every address its host name
/// resolves to, becomes one address for the channel's <c>pick_first</c> balancer, in the order given. A name's
/// addresses carry the name as their HTTP host, so TLS still checks the certificate against the configured name
/// (SocketsHttpHandler takes SNI and the name check from the Host header), never against the IP. Resolved again
/// whenever the balancer finds no address usable (grpc-dotnet asks its resolver to refresh then).
/// </summary>
public sealed class AddressListResolver(IReadOnlyList<Uri> targets, ILoggerFactory loggerFactory) : PollingResolver(loggerFactory)
{
    /// <summary>grpc-dotnet's own attribute (its DNS resolver's "HostOverride"): the Host header, hence the TLS name, of an address.</summary>
    private static readonly BalancerAttributesKey<string> HostOverride = new("HostOverride");

    protected override async Task ResolveAsync(CancellationToken cancellationToken)
    {
        var (addresses, failures) = await ResolveAllAsync(targets, cancellationToken).ConfigureAwait(false);
        Listener(addresses.Count > 0
            ? ResolverResult.ForResult(addresses)
            : ResolverResult.ForFailure(new Status(StatusCode.Unavailable, "no coordinator address resolves: " + string.Join("; ", failures))));
    }

    /// <summary>Every address of every target, each once, in the order given (a name's addresses in the resolver's order).</summary>
    public static async Task<(IReadOnlyList<BalancerAddress> Addresses, IReadOnlyList<string> Failures)> ResolveAllAsync(
        IReadOnlyList<Uri> targets, CancellationToken cancellationToken)
    {
        var addresses = new List<BalancerAddress>();
        var failures = new List<string>();
        var seen = new HashSet<(string, int)>();
        foreach (var target in targets)
        {
            var host = target.IdnHost.Trim('[', ']');
            IPAddress[] ips;
            var isName = !IPAddress.TryParse(host, out var literal);
            try
            {
                ips = isName ? await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false) : [literal!];
            }
            catch (SocketException e)
            {
                failures.Add($"{host}: {e.Message}");
                continue;
            }

            foreach (var ip in ips)
            {
                var text = (ip.IsIPv4MappedToIPv6 ? ip.MapToIPv4() : ip).ToString();
                if (!seen.Add((text, target.Port)))
                {
                    continue;
                }

                var address = new BalancerAddress(text, target.Port);
                if (isName)
                {
                    address.Attributes.Set(HostOverride, target.Authority);
                }

                addresses.Add(address);
            }
        }

        return (addresses, failures);
    }

    /// <summary>The host name an address is checked against (TLS) and sent as (HTTP Host), when it came from a name.</summary>
    public static string? HostNameOf(BalancerAddress address) => address.Attributes.TryGetValue(HostOverride, out var host) ? host : null;
}

/// <summary>Creates the <see cref="AddressListResolver"/> of one channel (one factory per channel, holding its list).</summary>
public sealed class AddressListResolverFactory(IReadOnlyList<Uri> targets) : ResolverFactory
{
    public const string Scheme = "ahm-list";

    public override string Name => Scheme;

    public override Resolver Create(ResolverOptions options) => new AddressListResolver(targets, options.LoggerFactory);
}
