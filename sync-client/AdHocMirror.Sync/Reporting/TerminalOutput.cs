using AdHocMirror.Sync.Transfer;

namespace AdHocMirror.Sync.Reporting;

/// <summary>
/// What a person sees: a line per step, live transfer progress (only on a terminal), and the one-line summary.
/// <c>--quiet</c> keeps only errors; <c>--json</c> sends the result object to stdout and the rest to stderr.
/// </summary>
public sealed class TerminalOutput(bool quiet, bool json, TextWriter? stdout = null, TextWriter? stderr = null)
{
    private readonly TextWriter _out = stdout ?? Console.Out;
    private readonly TextWriter _err = stderr ?? Console.Error;
    // With --json the steps and the progress share stderr, so a caller that parses stdout (portage's ahm module) still
    // shows progress when its user is at a terminal.
    private readonly bool _live = !quiet && stderr is null && !Console.IsErrorRedirected;
    private readonly Lock _gate = new();
    private bool _progressShown;

    private TextWriter Steps => json ? _err : _out;

    public void Step(string message)
    {
        if (!quiet)
        {
            lock (_gate)
            {
                EndProgress();
                Steps.WriteLine(message);
            }
        }
    }

    public void Warn(string message)
    {
        lock (_gate)
        {
            EndProgress();
            _err.WriteLine("ahm-sync: " + message);
        }
    }

    /// <summary>Live progress, or null when nobody is watching (saves rsync's --info=progress2 output).</summary>
    public IProgress<TransferProgress>? ProgressFor(string where) => _live ? new Progress(this, where) : null;

    public void Result(SyncResult result)
    {
        lock (_gate)
        {
            EndProgress();
            if (json)
            {
                _out.WriteLine(result.ToJson());
            }
            else if (result.ExitCode != 0)
            {
                _err.WriteLine("ahm-sync: " + result.Message);
            }
            else if (!quiet)
            {
                _out.WriteLine(result.Message);
            }
        }
    }

    private void EndProgress()
    {
        if (_progressShown)
        {
            _err.WriteLine();
            _progressShown = false;
        }
    }

    private sealed class Progress(TerminalOutput owner, string where) : IProgress<TransferProgress>
    {
        public void Report(TransferProgress value)
        {
            lock (owner._gate)
            {
                owner._err.Write($"\r  {where}: {value.Percent,3}%  {Size(value.Bytes),10}  {value.Speed,12}   ");
                owner._progressShown = true;
            }
        }
    }

    public static string Size(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (double)(1L << 30):0.0} GiB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):0.0} MiB",
        >= 1L << 10 => $"{bytes / 1024.0:0.0} KiB",
        _ => $"{bytes} B",
    };
}
