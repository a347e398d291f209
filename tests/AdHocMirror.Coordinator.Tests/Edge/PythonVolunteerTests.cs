using AdHocMirror.Coordinator.Tests.Support;
using AdHocMirror.Testing;

namespace AdHocMirror.Coordinator.Tests.Edge;

/// <summary>
/// The .proto comments are the contract for third-party clients: a volunteer written from them alone in Python
/// (Debian's python3-grpcio, messages compiled with protoc at test time) registers, logs in, answers pings and is offered.
/// </summary>
public sealed class PythonVolunteerTests
{
    [Fact]
    public async Task A_python_volunteer_following_the_proto_comments_is_offered_by_FindMirror()
    {
        await using var c = await CoordinatorFixture.StartAsync();
        var generated = c.Clock.GetUtcNow().AddHours(-1).ToUnixTimeSeconds();
        var result = await ExternalProcess.RunAsync(
            "/usr/bin/python3",
            [Path.Combine(AppContext.BaseDirectory, "python", "volunteer.py"), Path.Combine(AppContext.BaseDirectory, "Protos"), new Uri(c.PublicAddress).Authority, generated.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            timeout: TimeSpan.FromMinutes(2));
        Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}\n{result.Stdout}\n{result.Stderr}");
        Assert.StartsWith("offered rsync://127.0.0.1:8873/gentoo-portage", result.Stdout.Trim(), StringComparison.Ordinal);
    }

    [Fact]
    public void The_proto_comments_state_the_exact_bytes_of_the_proof_and_the_bearer()
    {
        var protos = Path.Combine(AppContext.BaseDirectory, "Protos", "ahm", "v1");
        var ping = File.ReadAllText(Path.Combine(protos, "ping.proto"));
        Assert.Contains("the 32 bytes that LoginReply.session_secret spells in hex", ping, StringComparison.Ordinal);
        Assert.Contains("NOT the UTF-8 of the hex string", ping, StringComparison.Ordinal);
        Assert.Contains("nonce + session_id.encode(\"utf-8\")", ping, StringComparison.Ordinal);
        Assert.Contains("raw 32-byte digest", ping, StringComparison.Ordinal);
        Assert.Contains("before the LoginReply reaches the mirror", ping, StringComparison.Ordinal); // the first ping may overtake it
        Assert.Contains("hex text itself, not decoded bytes", File.ReadAllText(Path.Combine(protos, "sessions.proto")), StringComparison.Ordinal);
        Assert.Contains("REFUSAL_CAUSE_SESSION_SUPERSEDED is sent as", File.ReadAllText(Path.Combine(protos, "registry.proto")), StringComparison.Ordinal);
    }
}
