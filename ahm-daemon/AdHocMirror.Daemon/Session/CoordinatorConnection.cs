using AdHocMirror.Contracts;
using AdHocMirror.Daemon.Configuration;
using AdHocMirror.Daemon.Enrolment;
using AdHocMirror.Wire;

namespace AdHocMirror.Daemon.Session;

/// <summary>The channel to the coordinator and its typed clients; calls carry a deadline so a silent coordinator cannot hang us.</summary>
public sealed class CoordinatorConnection : IDisposable
{
    public static readonly string Software = "ahm-daemon/" + typeof(CoordinatorConnection).Assembly.GetName().Version?.ToString(3);
    private readonly GrpcChannel _channel;

    public CoordinatorConnection(DaemonOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _channel = GrpcChannel.ForAddress(options.Coordinator.ToString().TrimEnd('/'), new GrpcChannelOptions
        {
            TrustedCertificatesFile = options.CoordinatorTrust,
            ConnectTimeout = TimeSpan.FromSeconds(10),
            UserAgent = Software,
        });
        Registry = new RegistryClient(_channel);
        Sessions = new SessionsClient(_channel);
        Matching = new MatchingClient(_channel);
    }

    public static TimeSpan CallTimeout { get; } = TimeSpan.FromSeconds(15);

    public RegistryClient Registry { get; }

    public SessionsClient Sessions { get; }

    public MatchingClient Matching { get; }

    public static CallOptions Call(StoredKey? key, string? sessionId = null, CancellationToken cancellationToken = default) =>
        CallOptions.WithTimeout(CallTimeout, key is null ? null : Credentials.ForKey(key.KeyId, key.Secret, sessionId), cancellationToken);

    public void Dispose() => _channel.Dispose();
}
