using System.Diagnostics;

namespace AdHocMirror.Tree.Processes;

/// <summary>
/// Runs real programs with <see cref="Process"/>, capturing their output. Children die with this process
/// (<see cref="ChildStarter"/>) and are recorded in the given <see cref="ChildLedger"/>, else in <see cref="ChildLedger.Current"/>.
/// </summary>
public sealed class ProcessRunner(ChildLedger? ledger = null) : IProcessRunner
{
    public static readonly ProcessRunner Instance = new();

    public async Task<ProcessResult> RunAsync(ProcessSpec spec, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var start = new ProcessStartInfo(spec.FileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        if (spec.WorkingDirectory is not null)
        {
            start.WorkingDirectory = spec.WorkingDirectory;
        }

        foreach (var argument in spec.Arguments)
        {
            start.ArgumentList.Add(argument);
        }

        if (spec.Environment is not null)
        {
            foreach (var (key, value) in spec.Environment)
            {
                if (value is null)
                {
                    start.Environment.Remove(key);
                }
                else
                {
                    start.Environment[key] = value;
                }
            }
        }

        using var process = new Process { StartInfo = start };
        IDisposable recorded;
        try
        {
            recorded = ChildStarter.Start(process, ledger ?? ChildLedger.Current);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"could not start {spec.FileName}: {e.Message}", e);
        }

        using var forgetOnExit = recorded;
        var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(spec.Timeout);
        try
        {
            try
            {
                if (spec.StandardInput is { } input)
                {
                    await process.StandardInput.BaseStream.WriteAsync(input, limit.Token);
                }

                process.StandardInput.Close();
            }
            catch (IOException)
            {
                // The program exited without reading all its input; its exit code says what happened.
            }

            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
            }

            await process.WaitForExitAsync(CancellationToken.None);
            cancellationToken.ThrowIfCancellationRequested();
            throw new TimeoutException($"{spec} did not finish within {spec.Timeout}");
        }

        return new ProcessResult(process.ExitCode, await stdout, await stderr);
    }
}
