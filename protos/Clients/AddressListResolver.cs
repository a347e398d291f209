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
/// An address can be set aside for a while (<see cref="SetAside"/>): its server accepted a call but never answered it,
/// so the balancer, which only notices refused or dropped connections, is given the list without it and reconnects
/// to the next.
/// </summary>
public sealed class AddressListResolver(IReadOnlyList<Uri> targets, ILoggerFactory loggerFactory, TimeProvider clock) : PollingResolver(loggerFactory)
{
    /// <summary>grpc-dotnet's own attribute (its DNS resolver's "HostOverride"): the Host header, hence the TLS name, of an address.</summary>
    private static readonly BalancerAttributesKey<string> HostOverride = new("HostOverride");
    private readonly Lock _lock = new();
    private readonly Dictionary<string, DateTimeOffset> _setAside = [];
    private IReadOnlyList<BalancerAddress> _resolved = [];

    protected override async Task ResolveAsync(CancellationToken cancellationToken)
    {
        var (addresses, failures) = await ResolveAllAsync(targets, cancellationToken).ConfigureAwait(false);
        if (addresses.Count == 0)
        {
            Listener(ResolverResult.ForFailure(new Status(StatusCode.Unavailable, "no coordinator address resolves: " + string.Join("; ", failures))));
            return;
        }

        lock (_lock)
        {
            _resolved = addresses;
        }

        Publish();
    }

    /// <summary>
    /// Leaves <paramref name="host"/>:<paramref name="port"/> out of the list for <paramref name="period"/> (until the
    /// next resolution after that), unless that would leave no address at all.
    /// </summary>
    public void SetAside(string host, int port, TimeSpan period)
    {
        lock (_lock)
        {
            if (!_resolved.Any(a => Key(a) == Key(host, port)))
            {
                return;
            }

            _setAside[Key(host, port)] = clock.GetUtcNow() + period;
        }

        Publish();
    }

    private void Publish()
    {
        List<BalancerAddress> usable;
        lock (_lock)
        {
            var now = clock.GetUtcNow();
            foreach (var expired in _setAside.Where(p => p.Value <= now).Select(p => p.Key).ToList())
            {
                _setAside.Remove(expired);
            }

            usable = [.. _resolved.Where(a => !_setAside.ContainsKey(Key(a)))];
            if (usable.Count == 0)
            {
                // Every one set aside: none is known to be better, so all are offered again.
                _setAside.Clear();
                usable = [.. _resolved];
            }
        }

        Listener(ResolverResult.ForResult(usable));
    }

    private static string Key(BalancerAddress address) => Key(address.EndPoint.Host, address.EndPoint.Port);

    private static string Key(string host, int port) => $"{host.Trim('[', ']')}:{port}";

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
public sealed class AddressListResolverFactory(IReadOnlyList<Uri> targets, TimeProvider? clock = null) : ResolverFactory
{
    public const string Scheme = "ahm-list";

    public override string Name => Scheme;

    /// <summary>The resolver of the channel, once the channel has made it.</summary>
    public AddressListResolver? Resolver { get; private set; }

    public override Resolver Create(ResolverOptions options) =>
        Resolver = new AddressListResolver(targets, options.LoggerFactory, clock ?? TimeProvider.System);
}
