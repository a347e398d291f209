using System.CommandLine;
using System.Text.Json;
using AdHocMirror.Coordinator.Cli;
using AdHocMirror.Hosting;
using AdHocMirror.Simulation.Engine;
using AdHocMirror.Simulation.Plots;
using AdHocMirror.Simulation.Results;
using AdHocMirror.Simulation.World;
using Spectre.Console;

namespace AdHocMirror.Simulation.Cli;

/// <summary>
/// The <c>ahm-simulate</c> command line. Exit codes (protos/Hosting/ExitCodes): 0 done, 1 failure (e.g. the plots
/// directory cannot be written), 2 bad command line or configuration (the message names the flag or setting).
/// </summary>
public static class SimulateCommandLine
{
    public static async Task<int> InvokeAsync(string[] args, TextWriter? stdout = null, TextWriter? stderr = null)
    {
        stdout ??= Console.Out;
        stderr ??= Console.Error;
        var config = new Option<FileInfo?>("--config") { Description = "The coordinator's settings file (as for ahm-coordinator serve); flags override it" };
        var json = new Option<bool>("--json") { Description = "Print the report as JSON on stdout" };
        var plots = new Option<string?>("--plots") { Description = "Write PNG charts into this directory" };
        var sweep = new Option<string?>("--sweep") { Description = "NAME=V1,V2,…: one run per value of the flag --NAME, one row each (e.g. volunteers=0.5%,1%,2%,5%)" };
        var flags = SimulationFlags.All.Select(f => (Flag: f, Option: new Option<string?>("--" + f.Name) { Description = f.Description })).ToList();
        var root = new RootCommand(
            "ahm-simulate: a discrete-event simulation of a Gentoo-sized swarm on a virtual clock, driving the coordinator's own "
            + "matching, lease, report and quarantine code with the settings of a configuration file.\n"
            + "Exit codes: 0 done, 1 failure, 2 bad command line or configuration.")
        {
            config, json, plots, sweep,
        };
        foreach (var (_, option) in flags)
        {
            root.Options.Add(option);
        }

        root.SetAction(async (parsed, _) =>
        {
            var run = new Invocation(parsed, config, flags, stdout, stderr);
            try
            {
                return await run.ExecuteAsync(parsed.GetValue(json), parsed.GetValue(plots), parsed.GetValue(sweep));
            }
            catch (SettingsException e)
            {
                await stderr.WriteLineAsync($"ahm-simulate: {e.Message}");
                return ExitCodes.Usage;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                await stderr.WriteLineAsync($"ahm-simulate: {e.Message}");
                return ExitCodes.Failure;
            }
        });

        var result = root.Parse(args);
        if (result.Errors.Count > 0)
        {
            foreach (var error in result.Errors)
            {
                await stderr.WriteLineAsync($"ahm-simulate: {error.Message}");
            }

            await stderr.WriteLineAsync("Try 'ahm-simulate --help'.");
            return ExitCodes.Usage;
        }

        return await result.InvokeAsync(new InvocationConfiguration { Output = stdout, Error = stderr });
    }

    private sealed class Invocation(
        ParseResult parsed, Option<FileInfo?> config, List<(SimulationFlags.Flag Flag, Option<string?> Option)> flags, TextWriter stdout, TextWriter stderr)
    {
        /// <summary>The options from the configuration file, then the flags, then one swept value.</summary>
        public SimulationOptions Build(string? sweptName = null, string? sweptValue = null)
        {
            var options = new SimulationOptions { Coordinator = CoordinatorSettings.Load(parsed.GetValue(config)?.FullName) };
            if (!options.Coordinator.OfficialConfigured)
            {
                options.Coordinator.Matching.Official = OfficialRotation.Build();
            }

            foreach (var (flag, option) in flags)
            {
                if (parsed.GetValue(option) is { } value)
                {
                    flag.Apply(options, value, "--" + flag.Name);
                }
            }

            if (sweptName is not null)
            {
                SimulationFlags.Find(sweptName)!.Apply(options, sweptValue!, $"--sweep {sweptName}");
            }

            return options.Check() is { } problem ? throw new SettingsException(problem) : options;
        }

        public async Task<int> ExecuteAsync(bool json, string? plotsDirectory, string? sweep)
        {
            var terminal = ReferenceEquals(stdout, Console.Out) && !Console.IsOutputRedirected;
            var console = AnsiConsole.Create(new AnsiConsoleSettings
            {
                Out = new AnsiConsoleOutput(stdout),
                Ansi = terminal ? AnsiSupport.Detect : AnsiSupport.No,
                ColorSystem = terminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            });
            if (!terminal)
            {
                console.Profile.Width = 160; // a file or a pipe: no wrapping of the table's rows
            }

            if (sweep is not null)
            {
                return await SweepAsync(console, json, sweep);
            }

            var options = Build();
            if (plotsDirectory is not null)
            {
                Directory.CreateDirectory(plotsDirectory); // a directory that cannot be made fails before the run, not after
            }

            var report = await Simulator.RunAsync(options);
            if (json)
            {
                await stdout.WriteLineAsync(JsonSerializer.Serialize(report, SimulationReport.Json));
            }
            else
            {
                SummaryTable.Write(console, report);
            }

            if (plotsDirectory is not null)
            {
                var shares = new List<(double, double)> { (options.Volunteers, report.WithVolunteers.VolunteerServedShare) };
                foreach (var share in (double[])[0.005, 0.01, 0.02, 0.05])
                {
                    if (Math.Abs(share - options.Volunteers) > 1e-9)
                    {
                        var point = options.Clone();
                        point.Volunteers = share;
                        shares.Add((share, (await Simulator.RunOnceAsync(point)).VolunteerServedShare));
                    }
                }

                foreach (var path in PlotWriter.Write(plotsDirectory, report, shares))
                {
                    await stderr.WriteLineAsync($"ahm-simulate: wrote {path}");
                }
            }

            return ExitCodes.Success;
        }

        private async Task<int> SweepAsync(IAnsiConsole console, bool json, string sweep)
        {
            var eq = sweep.IndexOf('=', StringComparison.Ordinal);
            var name = eq > 0 ? sweep[..eq].Trim().TrimStart('-') : string.Empty;
            if (eq <= 0 || SimulationFlags.Find(name) is null)
            {
                throw new SettingsException($"--sweep '{sweep}': expected NAME=V1,V2,… where NAME is one of the flags ({string.Join(", ", SimulationFlags.All.Select(f => f.Name))})");
            }

            var values = sweep[(eq + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (values.Length == 0)
            {
                throw new SettingsException($"--sweep '{sweep}': no values");
            }

            var runs = values.Select(v => (Value: v, Options: Build(name, v))).ToList(); // every value checked before the first run
            var rows = new List<(string Value, SimulationReport Report)>();
            foreach (var (value, options) in runs)
            {
                rows.Add((value, await Simulator.RunAsync(options)));
            }

            if (json)
            {
                var list = rows.Select(r => new SweepRow { Name = name, Value = r.Value, Report = r.Report });
                await stdout.WriteLineAsync(JsonSerializer.Serialize(list, SimulationReport.Json));
            }
            else
            {
                SummaryTable.WriteSweep(console, name, rows);
            }

            return ExitCodes.Success;
        }
    }

    public sealed record SweepRow
    {
        public required string Name { get; init; }

        public required string Value { get; init; }

        public required SimulationReport Report { get; init; }
    }
}
