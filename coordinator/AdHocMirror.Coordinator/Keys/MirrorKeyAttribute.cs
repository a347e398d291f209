namespace AdHocMirror.Coordinator.Keys;

/// <summary>Marks an RPC that only a mirror key holder may call; <see cref="MirrorKeyInterceptor"/> checks the key before the method runs.</summary>
[AttributeUsage(AttributeTargets.Method, Inherited = true)]
public sealed class MirrorKeyAttribute : Attribute;
