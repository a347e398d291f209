namespace AdHocMirror.Tree.Processes;

/// <summary>What to run: a program, its arguments, and optionally a directory, environment, input and time limit.</summary>
public sealed record ProcessSpec(string FileName, IReadOnlyList<string> Arguments)
{
    public string? WorkingDirectory { get; init; }

    /// <summary>Variables to set (a null value removes the variable).</summary>
    public IReadOnlyDictionary<string, string?>? Environment { get; init; }

    public byte[]? StandardInput { get; init; }

    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(5);

    public override string ToString() => $"{FileName} {string.Join(' ', Arguments)}";
}

/// <summary>How a program ended and what it printed.</summary>
public sealed record ProcessResult(int ExitCode, string StandardOutput, string StandardError);

/// <summary>The seam through which the library runs gpg, git and rsync.</summary>
public interface IProcessRunner
{
    /// <summary>Runs the program to completion; kills it (and its children) on timeout or cancellation.</summary>
    Task<ProcessResult> RunAsync(ProcessSpec spec, CancellationToken cancellationToken = default);
}
