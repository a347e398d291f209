using System.IO.Compression;

namespace AdHocMirror.Wire;

/// <summary>
/// Message compression names of <c>grpc-encoding</c>. We decode what peers may send and
/// always answer uncompressed (<c>identity</c>), which every peer must accept.
/// </summary>
public static class MessageEncoding
{
    public const string Header = "grpc-encoding";
    public const string AcceptHeader = "grpc-accept-encoding";
    public const string Identity = "identity";

    /// <summary>What we can decode, for <c>grpc-accept-encoding</c>.</summary>
    public const string Accepted = "identity,gzip,deflate";

    public static bool CanDecode(string? encoding) =>
        string.IsNullOrEmpty(encoding)
        || encoding.Equals(Identity, StringComparison.OrdinalIgnoreCase)
        || encoding.Equals("gzip", StringComparison.OrdinalIgnoreCase)
        || encoding.Equals("deflate", StringComparison.OrdinalIgnoreCase);

    /// <summary>Decompresses one message, refusing to inflate past <paramref name="maxSize"/>.</summary>
    public static byte[] Decompress(string encoding, ReadOnlySpan<byte> compressed, int maxSize)
    {
        using var input = new MemoryStream(compressed.ToArray(), writable: false);
        // gRPC's "deflate" is the zlib format (RFC 1950), not raw deflate.
        using Stream inflater = encoding.Equals("gzip", StringComparison.OrdinalIgnoreCase)
            ? new GZipStream(input, CompressionMode.Decompress)
            : new ZLibStream(input, CompressionMode.Decompress);
        using var output = new MemoryStream();
        var buffer = new byte[16 * 1024];
        int read;
        try
        {
            while ((read = inflater.Read(buffer, 0, buffer.Length)) > 0)
            {
                if (output.Length + read > maxSize)
                {
                    throw new RpcException(StatusCode.ResourceExhausted, $"Decompressed message larger than max ({maxSize} bytes)");
                }

                output.Write(buffer, 0, read);
            }
        }
        catch (InvalidDataException e)
        {
            throw new RpcException(StatusCode.Internal, $"Could not decompress a '{encoding}' message: {e.Message}");
        }

        return output.ToArray();
    }

    public static byte[] Compress(string encoding, ReadOnlySpan<byte> data)
    {
        using var output = new MemoryStream();
        using (Stream deflater = encoding.Equals("gzip", StringComparison.OrdinalIgnoreCase)
            ? new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true)
            : new ZLibStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            deflater.Write(data);
        }

        return output.ToArray();
    }
}
