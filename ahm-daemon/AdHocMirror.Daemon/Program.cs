using AdHocMirror.Daemon.Cli;

return await DaemonCommandLine.InvokeAsync(args);
