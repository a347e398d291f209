using System.Net;
using System.Net.Http.Headers;

namespace AdHocMirror.Protos.Tests.Hosting;

/// <summary>Hand-made HTTP/2 requests, for inputs no well-behaved gRPC client would send.</summary>
public static class RawGrpcRequest
{
    public sealed record Outcome(HttpStatusCode HttpStatus, StatusCode? Status, string Message);

    public static async Task<Outcome> SendAsync(
        string address, string path, byte[] body, string contentType = "application/grpc",
        IDictionary<string, string>? headers = null, Version? version = null)
    {
        using var client = new HttpClient(new SocketsHttpHandler()) { Timeout = TimeSpan.FromSeconds(30) };
        using var request = new HttpRequestMessage(HttpMethod.Post, $"http://{address}{path}")
        {
            Version = version ?? HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(body),
        };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        request.Headers.TE.ParseAdd("trailers");
        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        using var response = await client.SendAsync(request);
        await response.Content.ReadAsByteArrayAsync();
        var status = Header(response.Headers, "grpc-status") ?? Header(response.TrailingHeaders, "grpc-status");
        var message = Header(response.Headers, "grpc-message") ?? Header(response.TrailingHeaders, "grpc-message") ?? string.Empty;
        return new Outcome(response.StatusCode, status is null ? null : (StatusCode)int.Parse(status), Uri.UnescapeDataString(message));
    }

    public static byte[] Frame(byte flag, byte[] payload, uint? declaredLength = null)
    {
        var frame = new byte[5 + payload.Length];
        frame[0] = flag;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), declaredLength ?? (uint)payload.Length);
        payload.CopyTo(frame, 5);
        return frame;
    }

    private static string? Header(HttpHeaders headers, string name) =>
        headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;
}
