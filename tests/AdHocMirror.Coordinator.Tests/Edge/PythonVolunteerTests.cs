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
}
