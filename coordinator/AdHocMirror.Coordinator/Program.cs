using AdHocMirror.Coordinator.Cli;

return await CoordinatorCommandLine.InvokeAsync(args);
