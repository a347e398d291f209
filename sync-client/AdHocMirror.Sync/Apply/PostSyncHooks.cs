using AdHocMirror.Sync.Transfer;

namespace AdHocMirror.Sync.Apply;

/// <summary>
/// Runs the executables in <c>/etc/portage/repo.postsync.d</c> in name order, as emerge does after a repository sync:
/// each is called with the repository name, the sync URI and the repository path. A failing hook is reported; it does
/// not undo the sync.
/// </summary>
public sealed class PostSyncHooks(string directory, TimeSpan timeout)
{
    public async Task<IReadOnlyList<string>> RunAsync(string repositoryName, string uri, string repository, CancellationToken cancellationToken)
    {
        var failures = new List<string>();
        if (OperatingSystem.IsWindows() || !Directory.Exists(directory))
        {
            return failures;
        }

        foreach (var hook in Directory.EnumerateFiles(directory).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(hook);
            if (name.StartsWith('.') || name.EndsWith('~') || (File.GetUnixFileMode(hook) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) == 0)
            {
                continue;
            }

            var run = await ChildProcess.RunAsync(hook, [repositoryName, uri, repository], timeout, null, cancellationToken, workingDirectory: repository);
            if (run.ExitCode != 0)
            {
                failures.Add($"{name} exited with {run.ExitCode}{(run.TimedOut ? " (timed out)" : string.Empty)}: {run.Error.Trim()}");
            }
        }

        return failures;
    }
}
