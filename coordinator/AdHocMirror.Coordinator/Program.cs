using AdHocMirror.Coordinator.Cli;

// The coordinator reads no appsettings.json; without this every Kestrel listener would also hold
// an inotify watcher on its content root for nothing (a small per-user limit on Linux).
if (Environment.GetEnvironmentVariable("DOTNET_hostBuilder__reloadConfigOnChange") is null)
{
    Environment.SetEnvironmentVariable("DOTNET_hostBuilder__reloadConfigOnChange", "false");
}

return await CoordinatorCommandLine.InvokeAsync(args);
