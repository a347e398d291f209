using AdHocMirror.Simulation.Cli;

return await SimulateCommandLine.InvokeAsync(args);
