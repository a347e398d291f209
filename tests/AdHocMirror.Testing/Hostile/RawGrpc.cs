using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf;
using Grpc.Core;

namespace AdHocMirror.Testing.Hostile;

/// <summary>
/// gRPC over HTTP/2 by hand, for inputs no well-behaved client sends and for load tools that take a body file:
/// the length-prefixed frame, the request, and the status read back from headers or trailers.
/// </summary>
public static class RawGrpc
{
    /// <summary>One length-prefixed message; <paramref name="declaredLength"/> may lie about the payload.</summary>
    public static byte[] Frame(byte flag, ReadOnlySpan<byte> payload, uint? declaredLength = null)
    {
        var frame = new byte[5 + payload.Length];
        frame[0] = flag;
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), declaredLength ?? (uint)payload.Length);
        payload.CopyTo(frame.AsSpan(5));
        return frame;
    }

    /// <summary>An uncompressed message, framed as h2load or any client sends it.</summary>
    public static byte[] Frame(IMessage message) => Frame(0, message.ToByteArray());

    /// <summary>An h2c POST with the content type given (none when null) and <c>te: trailers</c>.</summary>
    public static HttpRequestMessage Request(string address, string path, HttpContent content, string? contentType = "application/grpc", Version? version = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"http://{address}{path}")
        {
            Version = version ?? HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = content,
        };
        if (contentType is not null)
        {
            request.Content.Headers.TryAddWithoutValidation("content-type", contentType);
        }

        request.Headers.TE.ParseAdd("trailers");
        return request;
    }

    /// <summary>grpc-status and the unescaped grpc-message, from the headers (trailers-only) or the trailers.</summary>
    public static (StatusCode? Status, string Message) StatusOf(HttpResponseMessage response)
    {
        var status = Header(response, "grpc-status");
        var message = Header(response, "grpc-message") ?? string.Empty;
        return (status is null ? null : (StatusCode)int.Parse(status, CultureInfo.InvariantCulture), Uri.UnescapeDataString(message));
    }

    public static string? Header(HttpResponseMessage response, string name) =>
        Header(response.Headers, name) ?? Header(response.TrailingHeaders, name);

    private static string? Header(HttpHeaders headers, string name) =>
        headers.NonValidated.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;
}
