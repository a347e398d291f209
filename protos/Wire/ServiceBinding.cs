using Google.Protobuf;

namespace AdHocMirror.Wire;

/// <summary>
/// Binds plain service methods to RPC paths. A service class never sees HTTP: it gets a message
/// and a <see cref="CallContext"/>, and returns a message or throws <see cref="RpcException"/>.
/// </summary>
public sealed class ServiceBinding
{
    private readonly Dictionary<string, MethodHandler> _handlers = new(StringComparer.Ordinal);

    public ServiceBinding(string serviceName) => ServiceName = serviceName;

    public string ServiceName { get; }

    internal IReadOnlyDictionary<string, MethodHandler> Handlers => _handlers;

    public ServiceBinding Unary<TRequest, TResponse>(
        Method<TRequest, TResponse> method, Func<TRequest, CallContext, Task<TResponse>> handler)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>, new()
    {
        Check(method, MethodType.Unary);
        _handlers.Add(method.Path, new UnaryHandler<TRequest, TResponse>(method, handler));
        return this;
    }

    public ServiceBinding ServerStreaming<TRequest, TResponse>(
        Method<TRequest, TResponse> method, Func<TRequest, IServerStreamWriter<TResponse>, CallContext, Task> handler)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>, new()
    {
        Check(method, MethodType.ServerStreaming);
        _handlers.Add(method.Path, new ServerStreamingHandler<TRequest, TResponse>(method, handler));
        return this;
    }

    private void Check(IMethodPath method, MethodType expected)
    {
        if (method.ServiceName != ServiceName)
        {
            throw new ArgumentException($"{method.Path} does not belong to service {ServiceName}.");
        }

        if (method.Type != expected)
        {
            throw new ArgumentException($"{method.Path} is {method.Type}, not {expected}.");
        }
    }
}

internal interface IMethodPath
{
    string ServiceName { get; }

    string Path { get; }

    MethodType Type { get; }
}

internal abstract class MethodHandler
{
    public abstract MethodType Type { get; }
}

internal sealed partial class UnaryHandler<TRequest, TResponse>(
    Method<TRequest, TResponse> method, Func<TRequest, CallContext, Task<TResponse>> handler) : MethodHandler
    where TRequest : class, IMessage<TRequest>, new()
    where TResponse : class, IMessage<TResponse>, new()
{
    public override MethodType Type => MethodType.Unary;

    public Method<TRequest, TResponse> Method { get; } = method;

    public Func<TRequest, CallContext, Task<TResponse>> Handler { get; } = handler;
}

internal sealed partial class ServerStreamingHandler<TRequest, TResponse>(
    Method<TRequest, TResponse> method, Func<TRequest, IServerStreamWriter<TResponse>, CallContext, Task> handler) : MethodHandler
    where TRequest : class, IMessage<TRequest>, new()
    where TResponse : class, IMessage<TResponse>, new()
{
    public override MethodType Type => MethodType.ServerStreaming;

    public Method<TRequest, TResponse> Method { get; } = method;

    public Func<TRequest, IServerStreamWriter<TResponse>, CallContext, Task> Handler { get; } = handler;
}
