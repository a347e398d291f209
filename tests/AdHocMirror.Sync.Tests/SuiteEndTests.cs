using AdHocMirror.Testing.Leftovers;

[assembly: Xunit.TestFramework(RunsLastFramework.TypeName, RunsLastFramework.AssemblyName)]

namespace AdHocMirror.Sync.Tests;

/// <summary>Runs after every other test of the assembly: nothing a test started may still be running.</summary>
[RunsLast]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class SuiteEndTests
{
    [Fact]
    public Task Nothing_the_tests_started_is_still_running() => LeftoverProcesses.AssertNoneAsync();
}
