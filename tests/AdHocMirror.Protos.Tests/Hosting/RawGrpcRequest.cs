using System.Net;
using AdHocMirror.Testing.Hostile;

namespace AdHocMirror.Protos.Tests.Hosting;

/// <summary>Sends one hand-made request (see <see cref="RawGrpc"/>) and reads what came back.</summary>
public static class RawGrpcRequest
{
    public sealed record Outcome(HttpStatusCode HttpStatus, StatusCode? Status, string Message);

    public static async Task<Outcome> SendAsync(
        string address, string path, byte[] body, string contentType = "application/grpc",
        IDictionary<string, string>? headers = null, Version? version = null)
    {
        using var client = new HttpClient(new SocketsHttpHandler()) { Timeout = TimeSpan.FromSeconds(30) };
        using var request = RawGrpc.Request(address, path, new ByteArrayContent(body), contentType, version);
        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        using var response = await client.SendAsync(request);
        await response.Content.ReadAsByteArrayAsync();
        var (status, message) = RawGrpc.StatusOf(response);
        return new Outcome(response.StatusCode, status, message);
    }
}
