using AdHocMirror.Bench;

return await BenchCommandLine.InvokeAsync(args);
