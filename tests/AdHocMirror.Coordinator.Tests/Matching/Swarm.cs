using AdHocMirror.Testing;
using System.Net;
using AdHocMirror.Contracts;
using AdHocMirror.Contracts.V1;
using AdHocMirror.Coordinator.Sessions;
using AdHocMirror.Coordinator.Tests.Support;
using Grpc.Core;

namespace AdHocMirror.Coordinator.Tests.Matching;

/// <summary>
/// A coordinator and mirrors "in" different cities: each mirror answers pings on its own loopback
/// address (127.0.0.x), which a CIDR override places. The test client is 127.0.0.1 (Munich) unless
/// it connects from another address.
/// </summary>
public sealed class Swarm : IAsyncDisposable
{
    public static readonly DateTimeOffset V1 = new(2026, 11, 20, 0, 45, 1, TimeSpan.Zero);
    public static readonly DateTimeOffset V2 = new(2026, 11, 21, 0, 45, 1, TimeSpan.Zero);

    /// <summary>Where test clients are: every other loopback address is in Munich.</summary>
    public static readonly string[] ClientPlaces = ["127.0.0.0/8 = 48.14,11.58 Munich, DE"];

    public static readonly string[] Places =
    [
        "127.0.0.2/32 = 52.52,13.40 Berlin, DE",
        "127.0.0.3/32 = 48.86,2.35 Paris, FR",
        "127.0.0.4/32 = 35.68,139.69 Tokyo, JP",
        "127.0.0.5/32 = 48.20,16.37 Vienna, AT",
        "127.0.0.6/32 = 40.71,-74.01 New York, US",
    ];

    private readonly List<FakeMirror> _mirrors = [];
    private readonly List<GrpcChannel> _channels = [];

    private Swarm(CoordinatorFixture coordinator) => Coordinator = coordinator;

    public CoordinatorFixture Coordinator { get; }

    public MatchingClient Matching => new(Coordinator.Channel);

    public static async Task<Swarm> StartAsync(Action<AdHocMirror.Coordinator.Hosting.CoordinatorOptions>? configure = null, bool withoutOverrides = false)
    {
        var coordinator = await CoordinatorFixture.StartAsync(options =>
        {
            options.Sessions.PingAddressPolicy = PingAddressPolicy.Any;
            options.Geo.Overrides.AddRange(Places);
            if (!withoutOverrides)
            {
                options.Geo.Overrides.AddRange(ClientPlaces);
            }

            // An official mirror far from everyone, so that volunteers are offered unless a test says otherwise.
            options.Matching.Official =
            [
                new() { Name = "official-rsync", Uri = "rsync://127.0.0.250/gentoo-portage", Protocol = Protocol.Rsync, Latitude = -45, Longitude = 170 },
                new() { Name = "official-git", Uri = "git://127.0.0.250/gentoo.git", Protocol = Protocol.Git },
            ];
            configure?.Invoke(options);
        });
        return new Swarm(coordinator);
    }

    /// <summary>Brings a mirror on 127.0.0.<paramref name="host"/> online and returns its key id.</summary>
    public async Task<string> AddMirrorAsync(int host, uint maxClients = 10, DateTimeOffset? rsync = null, DateTimeOffset? git = null, uint active = 0, ServeTo? serveTo = null)
    {
        var address = IPAddress.Parse($"127.0.0.{host}");
        var mirror = new FakeMirror(address) { ActiveConnections = active };
        await mirror.StartAsync();
        _mirrors.Add(mirror);
        var key = await Coordinator.RegisterAsync();
        var login = new LoginRequest
        {
            Endpoints = new MirrorEndpoints { PingAddress = $"{address}:{mirror.Port}" },
            Limits = new LoadLimits { MaxClients = maxClients },
            Software = "test",
            ServeTo = serveTo,
        };
        if ((rsync ?? (git is null ? V2 : (DateTimeOffset?)null)) is { } r)
        {
            login.Endpoints.RsyncUri = $"rsync://{address}:8873/gentoo-portage";
            login.Versions.Add(CoordinatorFixture.Version(Protocol.Rsync, r));
        }

        if (git is { } g)
        {
            login.Endpoints.GitUri = $"git://{address}:9418/gentoo.git";
            login.Versions.Add(CoordinatorFixture.Version(Protocol.Git, g, commit: new string('a', 40)));
        }

        mirror.Versions.AddRange(login.Versions);
        var reply = await Coordinator.Sessions.LoginAsync(login, CoordinatorFixture.With(key));
        mirror.Accept(reply);
        await Coordinator.AdvanceUntilAsync(
            () => Coordinator.Directory.Find(key.KeyId)?.IsEligible == true, TimeSpan.FromSeconds(1), $"mirror on {address} online");
        return key.KeyId;
    }

    /// <summary>A client connecting from 127.0.0.<paramref name="host"/>: a distinct client to the coordinator.</summary>
    public MatchingClient ClientFrom(int host) => ClientFrom($"127.0.0.{host}");

    /// <summary>A client connecting from <paramref name="address"/> (127.x.y.z: another /24 is another client network).</summary>
    public MatchingClient ClientFrom(string address)
    {
        var channel = GrpcChannels.Create(Coordinator.PublicAddress, new ChannelSettings { LocalAddress = IPAddress.Parse(address) });
        _channels.Add(channel);
        return new MatchingClient(channel);
    }

    public static FindMirrorRequest Find(Protocol protocol = Protocol.Rsync, DateTimeOffset? current = null, uint count = 3) => new()
    {
        Protocol = protocol,
        Current = current is { } c ? CoordinatorFixture.Version(protocol, c) : null,
        Count = count,
    };

    public async ValueTask DisposeAsync()
    {
        foreach (var channel in _channels)
        {
            channel.Dispose();
        }

        foreach (var mirror in _mirrors)
        {
            await mirror.DisposeAsync();
        }

        await Coordinator.DisposeAsync();
    }
}
