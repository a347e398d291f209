using Google.Protobuf;

namespace AdHocMirror.Protos.Tests.Interop;

/// <summary>Our implementation of the test contract on Grpc.AspNetCore.</summary>
public sealed class InteropService : Interop.InteropBase
{
    /// <summary>Echo text that makes the handler throw an exception it did not mean as an answer.</summary>
    public const string Crash = "crash: NullReferenceException at Secret.Internals()";

    private int _calls;

    /// <summary>Echo calls this server received (which of several servers a channel used).</summary>
    public int Calls => _calls;

    public override async Task<EchoReply> Echo(EchoRequest request, ServerCallContext context)
    {
        Interlocked.Increment(ref _calls);
        if (request.SleepMs > 0)
        {
            await Task.Delay(request.SleepMs, context.CancellationToken);
        }

        if (request.Text == Crash)
        {
            throw new InvalidOperationException(Crash);
        }

        context.ResponseTrailers.Add("x-served-by", "ahm");
        if (request.FailCode != 0)
        {
            throw new RpcException(new Status((StatusCode)request.FailCode, request.FailMessage));
        }

        var reply = new EchoReply
        {
            Text = request.Text,
            Payload = request.Payload,
            HadDeadline = context.Deadline != DateTime.MaxValue,
            PayloadSize = request.Payload.Length,
        };
        foreach (var entry in context.RequestHeaders)
        {
            if (entry.Key is "user-agent" or "te" or "grpc-accept-encoding" or "content-type")
            {
                continue;
            }

            reply.Metadata[entry.Key] = entry.IsBinary ? Convert.ToBase64String(entry.ValueBytes) : entry.Value;
        }

        return reply;
    }

    public override async Task Count(EchoRequest request, IServerStreamWriter<EchoReply> responseStream, ServerCallContext context)
    {
        for (var i = 0; i < request.Count; i++)
        {
            await responseStream.WriteAsync(new EchoReply { Index = i }, context.CancellationToken);
            if (request.SleepMs > 0)
            {
                await Task.Delay(request.SleepMs, context.CancellationToken);
            }
        }

        if (request.FailCode != 0)
        {
            throw new RpcException(new Status((StatusCode)request.FailCode, request.FailMessage));
        }
    }

    /// <summary>A reply far larger than any sane limit, to test the send limit.</summary>
    public static ByteString Big(int size) => ByteString.CopyFrom(new byte[size]);
}
