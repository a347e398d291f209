using AdHocMirror.Sync.Cli;

return await SyncCommandLine.InvokeAsync(args);
