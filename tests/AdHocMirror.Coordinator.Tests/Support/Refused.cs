using AdHocMirror.Contracts;
using AdHocMirror.Contracts.V1;
using Grpc.Core;

namespace AdHocMirror.Coordinator.Tests.Support;

public static class Refused
{
    /// <summary>Asserts a call fails with the status and refusal cause given, and returns the exception.</summary>
    public static async Task<RpcException> WithAsync(StatusCode code, RefusalCause cause, Func<Task> call)
    {
        var e = await Assert.ThrowsAsync<RpcException>(call);
        Assert.Equal(code, e.StatusCode);
        Assert.Equal(cause, Credentials.RefusalOf(e));
        return e;
    }
}
