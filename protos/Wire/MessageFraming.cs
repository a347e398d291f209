using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using Google.Protobuf;

namespace AdHocMirror.Wire;

/// <summary>
/// The gRPC length-prefixed message: 1 byte compressed flag, 4 bytes big-endian length, the message.
/// </summary>
public static class MessageFraming
{
    public const int HeaderSize = 5;

    /// <summary>Writes <paramref name="message"/> as one frame into <paramref name="writer"/>.</summary>
    public static void Write(IBufferWriter<byte> writer, IMessage message, int maxSize)
    {
        var size = message.CalculateSize();
        if (size > maxSize)
        {
            throw new RpcException(StatusCode.ResourceExhausted, $"Sending message larger than max ({size} vs. {maxSize})");
        }

        var span = writer.GetSpan(HeaderSize + size);
        span[0] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(span.Slice(1, 4), (uint)size);
        message.WriteTo(span.Slice(HeaderSize, size));
        writer.Advance(HeaderSize + size);
    }

    public static byte[] ToFrame(IMessage message, int maxSize)
    {
        var size = message.CalculateSize();
        if (size > maxSize)
        {
            throw new RpcException(StatusCode.ResourceExhausted, $"Sending message larger than max ({size} vs. {maxSize})");
        }

        var frame = new byte[HeaderSize + size];
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1, 4), (uint)size);
        message.WriteTo(frame.AsSpan(HeaderSize));
        return frame;
    }

    /// <summary>
    /// Reads the next whole message from <paramref name="reader"/>; null at a clean end of stream.
    /// The length prefix is checked against the limit before anything is buffered.
    /// </summary>
    public static async ValueTask<T?> ReadAsync<T>(
        PipeReader reader, MessageParser<T> parser, string? encoding, int maxSize, CancellationToken cancellationToken)
        where T : class, IMessage<T>
    {
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            if (TryReadFrame(ref buffer, out var compressed, out var payload, maxSize, out var error))
            {
                try
                {
                    return Parse(parser, compressed, payload, encoding, maxSize);
                }
                finally
                {
                    reader.AdvanceTo(buffer.Start);
                }
            }

            if (error is not null)
            {
                reader.AdvanceTo(buffer.Start, buffer.End);
                throw error;
            }

            if (result.IsCompleted || result.IsCanceled)
            {
                var leftover = buffer.Length;
                reader.AdvanceTo(buffer.End);
                if (leftover == 0)
                {
                    return null;
                }

                throw new RpcException(StatusCode.Internal, "Incomplete message: the stream ended inside a frame");
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    /// <summary>
    /// Reads the next whole message from a stream (the client's response body); null at a clean end.
    /// Cheaper than a pipe for the one or few messages of a client call.
    /// </summary>
    public static async ValueTask<T?> ReadAsync<T>(
        Stream stream, byte[] headerBuffer, MessageParser<T> parser, string? encoding, int maxSize, CancellationToken cancellationToken)
        where T : class, IMessage<T>
    {
        var read = await stream.ReadAtLeastAsync(headerBuffer.AsMemory(0, HeaderSize), HeaderSize, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        if (read == 0)
        {
            return null;
        }

        if (read < HeaderSize)
        {
            throw new RpcException(StatusCode.Internal, "Incomplete message: the stream ended inside a frame header");
        }

        var flag = headerBuffer[0];
        if (flag > 1)
        {
            throw new RpcException(StatusCode.Internal, $"Malformed frame: compressed flag is {flag}");
        }

        var length = BinaryPrimitives.ReadUInt32BigEndian(headerBuffer.AsSpan(1, 4));
        if (length > (uint)maxSize)
        {
            throw new RpcException(StatusCode.ResourceExhausted, $"Received message larger than max ({length} vs. {maxSize})");
        }

        var payload = ArrayPool<byte>.Shared.Rent((int)length);
        try
        {
            try
            {
                await stream.ReadExactlyAsync(payload.AsMemory(0, (int)length), cancellationToken).ConfigureAwait(false);
            }
            catch (EndOfStreamException)
            {
                throw new RpcException(StatusCode.Internal, "Incomplete message: the stream ended inside a frame");
            }

            return Parse(parser, flag == 1, new ReadOnlySequence<byte>(payload, 0, (int)length), encoding, maxSize);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(payload);
        }
    }

    private static bool TryReadFrame(
        ref ReadOnlySequence<byte> buffer, out bool compressed, out ReadOnlySequence<byte> payload, int maxSize, out RpcException? error)
    {
        compressed = false;
        payload = default;
        error = null;
        if (buffer.Length < HeaderSize)
        {
            return false;
        }

        Span<byte> header = stackalloc byte[HeaderSize];
        buffer.Slice(0, HeaderSize).CopyTo(header);
        var flag = header[0];
        if (flag > 1)
        {
            error = new RpcException(StatusCode.Internal, $"Malformed frame: compressed flag is {flag}");
            return false;
        }

        var length = BinaryPrimitives.ReadUInt32BigEndian(header[1..]);
        if (length > (uint)maxSize)
        {
            error = new RpcException(StatusCode.ResourceExhausted, $"Received message larger than max ({length} vs. {maxSize})");
            return false;
        }

        if (buffer.Length < HeaderSize + length)
        {
            return false;
        }

        compressed = flag == 1;
        payload = buffer.Slice(HeaderSize, length);
        buffer = buffer.Slice(payload.End);
        return true;
    }

    private static T Parse<T>(MessageParser<T> parser, bool compressed, ReadOnlySequence<byte> payload, string? encoding, int maxSize)
        where T : class, IMessage<T>
    {
        try
        {
            if (!compressed)
            {
                return parser.ParseFrom(payload);
            }

            if (string.IsNullOrEmpty(encoding) || encoding.Equals(MessageEncoding.Identity, StringComparison.OrdinalIgnoreCase))
            {
                throw new RpcException(StatusCode.Internal, "Compressed flag set on a message with no grpc-encoding");
            }

            return parser.ParseFrom(MessageEncoding.Decompress(encoding, payload.ToArray(), maxSize));
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new RpcException(StatusCode.Internal, $"Invalid protobuf byte sequence: {e.Message}");
        }
    }
}
