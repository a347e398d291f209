using System.Text.Json;
using AdHocMirror.Coordinator.Tests.Support;
using AdHocMirror.Testing;

namespace AdHocMirror.Coordinator.Tests.Hosting;

/// <summary>
/// Server reflection, as grpcurl and grpcio's reflection clients use it: a newcomer can list the coordinator's services
/// and resolve a method's messages without the .proto files. Checked with python3-grpcio speaking the public
/// grpc.reflection.v1 protocol (its .proto compiled by protoc in the test) and the older v1alpha.
/// </summary>
public sealed class ReflectionTests
{
    private static string Python => "/usr/bin/python3";

    [Theory]
    [InlineData("v1")]
    [InlineData("v1alpha")]
    public async Task A_grpcio_client_lists_the_services_and_resolves_a_method_on_each_listener(string version)
    {
        await using var c = await CoordinatorFixture.StartAsync();

        var publicView = await ReflectAsync(c.PublicAddress, version, "ahm.v1.Matching");
        Assert.Contains("ahm.v1.Registry", publicView.Services);
        Assert.Contains("ahm.v1.Sessions", publicView.Services);
        Assert.Contains("ahm.v1.Matching", publicView.Services);
        Assert.Contains("grpc.health.v1.Health", publicView.Services);
        Assert.DoesNotContain("ahm.v1.Admin", publicView.Services);
        var find = publicView.Methods.GetProperty("FindMirror");
        Assert.Equal(".ahm.v1.FindMirrorRequest", find.GetProperty("input").GetString());
        Assert.Equal(".ahm.v1.FindMirrorReply", find.GetProperty("output").GetString());
        // The dependencies come along, so the request's field types resolve too.
        Assert.Contains(".ahm.v1.TreeVersion", publicView.Messages);

        var adminView = await ReflectAsync(c.AdminAddress, version, "ahm.v1.Admin");
        Assert.Contains("ahm.v1.Admin", adminView.Services);
        Assert.DoesNotContain("ahm.v1.Matching", adminView.Services);
        Assert.True(adminView.Methods.GetProperty("WatchAudit").GetProperty("server_streaming").GetBoolean());
    }

    private static async Task<(string[] Services, JsonElement Methods, string[] Messages)> ReflectAsync(string address, string version, string symbol)
    {
        var run = await ExternalProcess.RunAsync(
            Python,
            [Path.Combine(AppContext.BaseDirectory, "python", "reflection_client.py"), Path.Combine(AppContext.BaseDirectory, "Protos"), new Uri(address).Authority, version, symbol],
            AppContext.BaseDirectory,
            timeout: TimeSpan.FromMinutes(1));
        Assert.True(run.ExitCode == 0, run.Stderr);
        var json = JsonDocument.Parse(run.Stdout).RootElement;
        Assert.Equal(JsonValueKind.Null, json.GetProperty("error").ValueKind);
        return (
            json.GetProperty("services").EnumerateArray().Select(e => e.GetString()!).ToArray(),
            json.GetProperty("methods").Clone(),
            json.GetProperty("messages").EnumerateArray().Select(e => e.GetString()!).ToArray());
    }
}
