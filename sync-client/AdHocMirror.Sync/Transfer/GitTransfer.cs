using AdHocMirror.Contracts.V1;
using AdHocMirror.Sync.Configuration;

namespace AdHocMirror.Sync.Transfer;

/// <summary>
/// git into staging: the current checkout is copied in as hard links (git writes every file, index and ref by
/// create-and-rename, never in place, so the installed tree is never touched), then <c>git fetch --depth 1</c> of the
/// source's HEAD into <see cref="FetchedRef"/> (reflogs and FETCH_HEAD, which git writes in place, are unshared first). The checkout happens only after the fetched commit's signature is
/// verified (<see cref="CheckOutAsync"/>). Bytes received are the sizes of the new packs.
/// </summary>
public sealed class GitTransfer(SyncOptions options) : ITreeTransfer
{
    public const string FetchedRef = "refs/ahm/fetched";

    public async Task<TransferResult> FetchAsync(string uri, string staging, string? current, IProgress<TransferProgress>? progress, CancellationToken cancellationToken)
    {
        if (current is not null && Directory.Exists(Path.Combine(current, ".git")))
        {
            var copy = await ChildProcess.RunAsync("cp", ["-al", "--", current + "/.", staging + "/"], options.TransferTimeout, null, cancellationToken);
            if (copy.ExitCode != 0)
            {
                return TransferResult.Failed(SyncOutcome.Abandoned, $"cannot link the current tree into staging: {copy.Error.Trim()}");
            }

            // The files git appends to or truncates in place (reflogs, FETCH_HEAD) must not stay shared with the
            // installed tree; reflogs mean nothing in a sync repository.
            foreach (var shared in new[] { "logs", "FETCH_HEAD", "ORIG_HEAD" })
            {
                var path = Path.Combine(staging, ".git", shared);
                if (Directory.Exists(path))
                {
                    Directory.Delete(path, recursive: true);
                }
                else
                {
                    File.Delete(path);
                }
            }
        }
        else
        {
            var init = await Git(staging, ["init", "-q"], cancellationToken);
            if (init.ExitCode != 0)
            {
                return TransferResult.Failed(SyncOutcome.Abandoned, $"git init failed: {init.Error.Trim()}");
            }
        }

        var packs = Path.Combine(staging, ".git", "objects", "pack");
        var before = Directory.Exists(packs) ? Directory.GetFiles(packs, "*.pack").ToHashSet(StringComparer.Ordinal) : [];
        var fetch = await Git(
            staging,
            ["-c", "fetch.unpackLimit=1", "-c", "http.lowSpeedLimit=1000", "-c", $"http.lowSpeedTime={(int)options.IoTimeout.TotalSeconds}",
             "fetch", "--quiet", "--no-tags", "--depth", "1", "--", uri, "+HEAD:" + FetchedRef],
            cancellationToken);
        if (fetch.TimedOut)
        {
            return TransferResult.Failed(SyncOutcome.Timeout, $"git fetch took longer than {options.TransferTimeout.TotalSeconds:0} s");
        }

        if (fetch.ExitCode != 0)
        {
            var message = fetch.Error.Trim();
            var outcome = message.Contains("access denied", StringComparison.OrdinalIgnoreCase) || message.Contains("not exported", StringComparison.OrdinalIgnoreCase)
                ? SyncOutcome.Refused : SyncOutcome.Unreachable;
            return TransferResult.Failed(outcome, $"git fetch exit {fetch.ExitCode}: {message}");
        }

        var received = Directory.Exists(packs) ? Directory.GetFiles(packs, "*.pack").Where(p => !before.Contains(p)).Sum(p => new FileInfo(p).Length) : 0;
        return new TransferResult(true, received, 0);
    }

    /// <summary>Checks out the verified fetched commit in staging: the work tree then equals the commit exactly.</summary>
    public async Task<string?> CheckOutAsync(string staging, CancellationToken cancellationToken)
    {
        foreach (var step in new[]
        {
            new[] { "-c", "advice.detachedHead=false", "checkout", "-q", "-f", "-B", "master", FetchedRef },
            ["clean", "-q", "-f", "-d"],
            ["update-ref", "-d", FetchedRef],
        })
        {
            var run = await Git(staging, step, cancellationToken);
            if (run.ExitCode != 0)
            {
                return $"git {string.Join(' ', step)} failed: {run.Error.Trim()}";
            }
        }

        return null;
    }

    private Task<ChildProcess.Outcome> Git(string directory, IEnumerable<string> arguments, CancellationToken cancellationToken) =>
        ChildProcess.RunAsync(
            options.Git, ["-C", directory, "-c", "gc.auto=0", "-c", "core.logAllRefUpdates=false", .. arguments], options.TransferTimeout, null, cancellationToken,
            environment: new Dictionary<string, string?> { ["GIT_TERMINAL_PROMPT"] = "0", ["GIT_ASKPASS"] = "/bin/true", ["TZ"] = "UTC", ["GIT_TRACE"] = null });
}
