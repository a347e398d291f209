using System.Diagnostics;
using System.Globalization;

namespace AdHocMirror.Clients;

/// <summary>
/// Sits between grpc-dotnet's balancer and the socket handler, where a request already names the address it was sent
/// to: a call whose deadline passed before the server even answered (a server that accepts connections but is hung)
/// sets that address aside, so the next call goes to the next server. Refused or dropped connections need nothing
/// of this: the balancer sees those itself.
/// </summary>
public sealed class DeadlineWatch(AddressListResolverFactory resolvers, TimeSpan setAsideFor) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var started = Stopwatch.GetTimestamp();
        try
        {
            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (Timeout(request) is { } timeout && Stopwatch.GetElapsedTime(started) >= timeout
            && request.RequestUri is { } uri && resolvers.Resolver is { } resolver)
        {
            resolver.SetAside(uri.IdnHost, uri.Port, setAsideFor);
            throw;
        }
    }

    /// <summary>The call's deadline as sent (<c>grpc-timeout</c>: digits and a unit H, M, S, m, u or n).</summary>
    private static TimeSpan? Timeout(HttpRequestMessage request)
    {
        if (!request.Headers.TryGetValues("grpc-timeout", out var values) || values.FirstOrDefault() is not { Length: >= 2 } text
            || !long.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var amount))
        {
            return null;
        }

        return text[^1] switch
        {
            'H' => TimeSpan.FromHours(amount),
            'M' => TimeSpan.FromMinutes(amount),
            'S' => TimeSpan.FromSeconds(amount),
            'm' => TimeSpan.FromMilliseconds(amount),
            'u' => TimeSpan.FromMicroseconds(amount),
            'n' => TimeSpan.FromTicks(amount / 100),
            _ => null,
        };
    }
}
