using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AdHocMirror.Hosting;

/// <summary>Runs a <see cref="GrpcServer"/> for the lifetime of a generic host.</summary>
public sealed partial class GrpcServerService(string name, GrpcServer server, ILogger<GrpcServerService> logger) : IHostedService
{
    public GrpcServer Server => server;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await server.StartAsync(cancellationToken);
        LogListening(logger, name, string.Join(", ", server.Addresses));
    }

    public Task StopAsync(CancellationToken cancellationToken) => server.StopAsync(cancellationToken);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Name} listening on {Addresses}")]
    private static partial void LogListening(ILogger logger, string name, string addresses);
}
