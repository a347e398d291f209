using AdHocMirror.Clients;
using AdHocMirror.Contracts;
using AdHocMirror.Contracts.V1;
using Grpc.Net.Client;
using AdHocMirror.Daemon.Configuration;
using AdHocMirror.Daemon.Enrolment;
using Grpc.Core;

namespace AdHocMirror.Daemon.Session;

/// <summary>
/// The channel to the coordinators and its typed clients; calls carry a deadline so a silent coordinator cannot hang
/// us. With several coordinators (or a name with several addresses) the channel uses the first that accepts a
/// connection and moves to the next when it refuses or drops them (<see cref="GrpcChannels.Create(ServiceAddresses, ChannelSettings?)"/>).
/// </summary>
public sealed class CoordinatorConnection : IDisposable
{
    public static readonly string Software = "ahm-daemon/" + typeof(CoordinatorConnection).Assembly.GetName().Version?.ToString(3);
    private readonly GrpcChannel _channel;

    public CoordinatorConnection(DaemonOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _channel = GrpcChannels.Create(options.Coordinators, new ChannelSettings
        {
            TrustedCertificatesFile = options.CoordinatorTrust,
            ConnectTimeout = TimeSpan.FromSeconds(10),
        });
        Registry = new Registry.RegistryClient(_channel);
        Sessions = new Contracts.V1.Sessions.SessionsClient(_channel);
        Matching = new Contracts.V1.Matching.MatchingClient(_channel);
    }

    public static TimeSpan CallTimeout { get; } = TimeSpan.FromSeconds(15);

    public Registry.RegistryClient Registry { get; }

    public Contracts.V1.Sessions.SessionsClient Sessions { get; }

    public Contracts.V1.Matching.MatchingClient Matching { get; }

    public static CallOptions Call(StoredKey? key, string? sessionId = null, CancellationToken cancellationToken = default) =>
        Calls.WithTimeout(CallTimeout, key is null ? null : Credentials.ForKey(key.KeyId, key.Secret, sessionId), cancellationToken);

    public void Dispose() => _channel.Dispose();
}
