namespace AdHocMirror.Coordinator.Tests.Support;

/// <summary>
/// Every in-process server (three per coordinator, one per fake mirror) would otherwise watch its
/// content root for appsettings changes, one inotify instance each; parallel tests then hit the
/// per-user limit (128) shared with every other test run on the machine.
/// </summary>
internal static class QuietHosting
{
    public static void Apply() => Environment.SetEnvironmentVariable("DOTNET_hostBuilder__reloadConfigOnChange", "false");
}
