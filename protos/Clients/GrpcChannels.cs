using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Grpc.Net.Client.Balancer;
using Grpc.Net.Client.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace AdHocMirror.Clients;

/// <summary>
/// Makes the one <see cref="GrpcChannel"/> a program keeps per target: h2c for <c>http://</c> (loopback, LANs), TLS
/// with a private CA or a pinned self-signed certificate for <c>https://</c>, HTTP/2 keep-alive pings, and retries of
/// idempotent calls declared in the gRPC service config rather than in loops of our own.
/// </summary>
public static class GrpcChannels
{
    /// <summary>Calls that may safely be sent again when the first attempt did not reach a server.</summary>
    private static readonly MethodName[] Idempotent =
    [
        new() { Service = "ahm.v1.Matching", Method = "FindMirror" },
        new() { Service = "ahm.v1.Admin", Method = "ListMirrors" },
        new() { Service = "ahm.v1.Admin", Method = "ListKeys" },
        new() { Service = "ahm.v1.Admin", Method = "ListBlacklist" },
        new() { Service = "ahm.v1.Admin", Method = "ListQuarantine" },
        new() { Service = "ahm.v1.Admin", Method = "GetStats" },
        new() { Service = "ahm.v1.Admin", Method = "ListAudit" },
        new() { Service = "grpc.health.v1.Health", Method = "Check" },
    ];

    /// <summary>Accepts <c>http://host:port</c>, <c>https://host:port</c>, or a bare <c>host:port</c> (cleartext).</summary>
    /// <exception cref="ArgumentException">The address is not an http(s) URI.</exception>
    public static GrpcChannel Create(string address, ChannelSettings? settings = null)
    {
        settings ??= new ChannelSettings();
        var options = Options(settings);
        if (settings.RetryIdempotentCalls)
        {
            options.ServiceConfig = new ServiceConfig { MethodConfigs = { RetryIdempotent() } };
        }

        return GrpcChannel.ForAddress(Parse(address), options);
    }

    /// <summary>
    /// One channel to several servers of one service (coordinators on one database): grpc-dotnet's <c>pick_first</c>
    /// balancer over every listed URL and every address each name resolves to (<see cref="AddressListResolver"/>), so
    /// calls go to the first that accepts a connection and move to the next when it refuses or drops connections, or
    /// (<see cref="DeadlineWatch"/>) lets a call's deadline pass without answering.
    /// </summary>
    public static GrpcChannel Create(ServiceAddresses addresses, ChannelSettings? settings = null)
    {
        ArgumentNullException.ThrowIfNull(addresses);
        settings ??= new ChannelSettings();
        var options = Options(settings);
        options.Credentials = addresses.IsSecure ? ChannelCredentials.SecureSsl : ChannelCredentials.Insecure;
        var resolvers = new AddressListResolverFactory(addresses.Targets);
        options.ServiceProvider = new ServiceCollection()
            .AddSingleton<ResolverFactory>(resolvers)
            .BuildServiceProvider();
        // The balancer moves on from refused and dropped connections by itself; a hung server is set aside here.
        options.HttpHandler = new DeadlineWatch(resolvers, settings.SetAsideAfterDeadline) { InnerHandler = options.HttpHandler! };
        // A server that comes back is tried again within seconds, not grpc-dotnet's default two minutes.
        options.MaxReconnectBackoff = settings.MaxReconnectBackoff;
        var config = new ServiceConfig { LoadBalancingConfigs = { new PickFirstConfig() } };
        if (settings.RetryIdempotentCalls)
        {
            config.MethodConfigs.Add(RetryIdempotent());
        }

        options.ServiceConfig = config;
        return GrpcChannel.ForAddress($"{AddressListResolverFactory.Scheme}:///{(addresses.IsSecure ? "tls" : "h2c")}", options);
    }

    private static GrpcChannelOptions Options(ChannelSettings settings)
    {
        var handler = new SocketsHttpHandler
        {
            EnableMultipleHttp2Connections = true,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            KeepAlivePingDelay = TimeSpan.FromSeconds(60),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(20),
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
            ConnectTimeout = settings.ConnectTimeout,
            AutomaticDecompression = DecompressionMethods.None,
            UseProxy = false,
        };
        if (settings.LocalAddress is { } local)
        {
            handler.ConnectCallback = (context, cancellationToken) => ConnectFromAsync(local, context.DnsEndPoint, cancellationToken);
        }

        if (settings.TrustedCertificatesFile is { } trustFile)
        {
            var trusted = new X509Certificate2Collection();
            trusted.ImportFromPemFile(trustFile);
            handler.SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, errors) => IsTrusted(certificate, errors, trusted),
            };
        }

        return new GrpcChannelOptions
        {
            HttpHandler = handler,
            DisposeHttpClient = true,
            MaxReceiveMessageSize = settings.MaxReceiveMessageSize,
            MaxSendMessageSize = settings.MaxSendMessageSize,
        };
    }

    private static MethodConfig RetryIdempotent()
    {
        var retry = new MethodConfig
        {
            RetryPolicy = new RetryPolicy
            {
                MaxAttempts = 3,
                InitialBackoff = TimeSpan.FromMilliseconds(200),
                MaxBackoff = TimeSpan.FromSeconds(2),
                BackoffMultiplier = 2,
                RetryableStatusCodes = { StatusCode.Unavailable },
            },
        };
        foreach (var name in Idempotent)
        {
            retry.Names.Add(name);
        }

        return retry;
    }

    /// <summary>Calls on <paramref name="channel"/> that present <paramref name="token"/> as <c>authorization: Bearer</c> (staff's admin token).</summary>
    public static CallInvoker WithBearer(this GrpcChannel channel, string token) =>
        channel.Intercept(metadata =>
        {
            metadata.Add("authorization", $"Bearer {token}");
            return metadata;
        });

    /// <summary>Whether <paramref name="address"/> is one <see cref="Create"/> takes; <paramref name="error"/> says why not.</summary>
    public static bool TryParse(string? address, out Uri target, out string error)
    {
        target = null!;
        error = string.Empty;
        if (string.IsNullOrWhiteSpace(address))
        {
            error = "an address is required (http://HOST:PORT or https://HOST:PORT)";
            return false;
        }

        var text = address.Contains("://", StringComparison.Ordinal) ? address : "http://" + address;
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
            || uri.PathAndQuery is not ("/" or "") || !string.IsNullOrEmpty(uri.UserInfo))
        {
            error = $"'{Shorten(address)}' is not a gRPC address (http://HOST:PORT or https://HOST:PORT)";
            return false;
        }

        target = new Uri(uri.GetLeftPart(UriPartial.Authority));
        return true;
    }

    private static Uri Parse(string address) =>
        TryParse(address, out var target, out var error) ? target : throw new ArgumentException(error, nameof(address));

    private static string Shorten(string text) => text.Length <= 64 ? text : text[..64] + "…";

    private static async ValueTask<Stream> ConnectFromAsync(IPAddress local, DnsEndPoint target, CancellationToken cancellationToken)
    {
        var socket = new Socket(local.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            socket.Bind(new IPEndPoint(local, 0));
            await socket.ConnectAsync(target, cancellationToken).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static bool IsTrusted(X509Certificate? certificate, SslPolicyErrors errors, X509Certificate2Collection trusted)
    {
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }

        if (certificate is null || (errors & SslPolicyErrors.RemoteCertificateNotAvailable) != 0)
        {
            return false;
        }

        using var leaf = new X509Certificate2(certificate);
        foreach (var candidate in trusted)
        {
            if (candidate.RawDataMemory.Span.SequenceEqual(leaf.RawDataMemory.Span))
            {
                // Pinned: the very certificate we were told to trust (self-signed servers).
                return true;
            }
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(trusted);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(leaf) && (errors & SslPolicyErrors.RemoteCertificateNameMismatch) == 0;
    }
}
