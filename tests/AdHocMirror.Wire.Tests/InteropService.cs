using AdHocMirror.Wire.Tests.Interop;
using Google.Protobuf;

namespace AdHocMirror.Wire.Tests;

/// <summary>Our implementation of the test contract: a plain service class that never sees HTTP.</summary>
public sealed class InteropService
{
    public static readonly Method<EchoRequest, EchoReply> Echo = Method.Unary<EchoRequest, EchoReply>("ahm.test.Interop", "Echo");
    public static readonly Method<EchoRequest, EchoReply> Count = Method.ServerStreaming<EchoRequest, EchoReply>("ahm.test.Interop", "Count");

    public ServiceBinding Bind() => new ServiceBinding("ahm.test.Interop")
        .Unary(Echo, EchoAsync)
        .ServerStreaming(Count, CountAsync);

    public async Task<EchoReply> EchoAsync(EchoRequest request, CallContext context)
    {
        if (request.SleepMs > 0)
        {
            await Task.Delay(request.SleepMs, context.CancellationToken);
        }

        context.ResponseTrailers.Add("x-served-by", "ahm");
        if (request.FailCode != 0)
        {
            throw new RpcException((StatusCode)request.FailCode, request.FailMessage);
        }

        var reply = new EchoReply
        {
            Text = request.Text,
            Payload = request.Payload,
            HadDeadline = context.Deadline is not null,
            PayloadSize = request.Payload.Length,
        };
        foreach (var entry in context.RequestHeaders)
        {
            reply.Metadata[entry.Key] = entry.IsBinary ? Convert.ToBase64String(entry.ValueBytes!) : entry.Value!;
        }

        return reply;
    }

    public async Task CountAsync(EchoRequest request, IServerStreamWriter<EchoReply> writer, CallContext context)
    {
        for (var i = 0; i < request.Count; i++)
        {
            await writer.WriteAsync(new EchoReply { Index = i }, context.CancellationToken);
            if (request.SleepMs > 0)
            {
                await Task.Delay(request.SleepMs, context.CancellationToken);
            }
        }

        if (request.FailCode != 0)
        {
            throw new RpcException((StatusCode)request.FailCode, request.FailMessage);
        }
    }

    /// <summary>A reply far larger than any sane limit, to test the send limit.</summary>
    public static ByteString Big(int size) => ByteString.CopyFrom(new byte[size]);
}
