using System.Globalization;

namespace AdHocMirror.Testing.Trees;

/// <summary>The same generated content as a git repository whose commits are signed by a <see cref="TestSigningKey"/>.</summary>
public static class GentooGitTree
{
    /// <summary>Creates a repository at <paramref name="directory"/> with the tree content as one signed commit.</summary>
    public static async Task<string> CreateAsync(string directory, GentooTreeOptions options, TestSigningKey key)
    {
        ArgumentNullException.ThrowIfNull(options);
        GentooTree.WriteContent(directory, options);
        (await Git(directory, null, ["init", "-q", "-b", "master"])).EnsureSuccess("git init");
        return await CommitAsync(directory, key, options.Timestamp, "Initial tree");
    }

    /// <summary>Commits the work tree (all changes); signed by <paramref name="key"/> unless it is null. Returns the commit id.</summary>
    public static async Task<string> CommitAsync(string directory, TestSigningKey? key, DateTimeOffset time, string message)
    {
        (await Git(directory, key, ["add", "-A"])).EnsureSuccess("git add");
        var date = $"@{time.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)} +0000";
        List<string> commit = key is null
            ? ["commit", "-q", "--allow-empty", "--no-gpg-sign", "-m", message]
            : ["commit", "-q", "--allow-empty", "-S" + key.Fingerprint, "-m", message];
        (await Git(directory, key, commit, new Dictionary<string, string> { ["GIT_AUTHOR_DATE"] = date, ["GIT_COMMITTER_DATE"] = date })).EnsureSuccess("git commit");
        return (await Git(directory, key, ["rev-parse", "HEAD"])).EnsureSuccess("git rev-parse").Stdout.Trim();
    }

    private static Task<ExternalProcess.Result> Git(string directory, TestSigningKey? key, IEnumerable<string> arguments, IDictionary<string, string>? extra = null)
    {
        var environment = new Dictionary<string, string>
        {
            ["GIT_CONFIG_NOSYSTEM"] = "1",
            ["GIT_CONFIG_GLOBAL"] = "/dev/null",
            ["GIT_AUTHOR_NAME"] = "AHM Test",
            ["GIT_AUTHOR_EMAIL"] = "test@example.invalid",
            ["GIT_COMMITTER_NAME"] = "AHM Test",
            ["GIT_COMMITTER_EMAIL"] = "test@example.invalid",
        };
        if (key is not null)
        {
            environment["GNUPGHOME"] = key.Home;
        }

        foreach (var (name, value) in extra ?? new Dictionary<string, string>())
        {
            environment[name] = value;
        }

        return ExternalProcess.RunAsync("git", ["-C", directory, "-c", "gpg.program=gpg", .. arguments], environment: environment);
    }
}
