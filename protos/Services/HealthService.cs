using AdHocMirror.Wire;
using Grpc.Health.V1;

namespace AdHocMirror.Contracts;

/// <summary>
/// grpc.health.v1.Health: "" is the whole server; named services may be set NOT_SERVING while they
/// cannot answer (e.g. during shutdown). Watch streams every change until the caller leaves.
/// </summary>
public sealed class HealthService
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, HealthCheckResponse.Types.ServingStatus> _statuses = new(StringComparer.Ordinal);
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public HealthService(params string[] services)
    {
        _statuses[string.Empty] = HealthCheckResponse.Types.ServingStatus.Serving;
        foreach (var service in services)
        {
            _statuses[service] = HealthCheckResponse.Types.ServingStatus.Serving;
        }
    }

    public void Set(string service, HealthCheckResponse.Types.ServingStatus status)
    {
        TaskCompletionSource changed;
        lock (_gate)
        {
            _statuses[service] = status;
            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        changed.TrySetResult();
    }

    public ServiceBinding Bind() => new ServiceBinding(HealthMethods.Service)
        .Unary(HealthMethods.Check, CheckAsync)
        .ServerStreaming(HealthMethods.Watch, WatchAsync);

    public Task<HealthCheckResponse> CheckAsync(HealthCheckRequest request, CallContext context)
    {
        lock (_gate)
        {
            if (!_statuses.TryGetValue(request.Service, out var status))
            {
                throw new RpcException(StatusCode.NotFound, $"Unknown service '{request.Service}'");
            }

            return Task.FromResult(new HealthCheckResponse { Status = status });
        }
    }

    public async Task WatchAsync(HealthCheckRequest request, IServerStreamWriter<HealthCheckResponse> writer, CallContext context)
    {
        HealthCheckResponse.Types.ServingStatus? last = null;
        while (!context.CancellationToken.IsCancellationRequested)
        {
            HealthCheckResponse.Types.ServingStatus current;
            Task changed;
            lock (_gate)
            {
                current = _statuses.TryGetValue(request.Service, out var s) ? s : HealthCheckResponse.Types.ServingStatus.ServiceUnknown;
                changed = _changed.Task;
            }

            if (current != last)
            {
                await writer.WriteAsync(new HealthCheckResponse { Status = current }, context.CancellationToken);
                last = current;
            }

            await changed.WaitAsync(context.CancellationToken);
        }
    }
}
