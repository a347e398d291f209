using System.Text.Json;
using AdHocMirror.EndToEnd.Tests.Packaging;
using AdHocMirror.Testing;

namespace AdHocMirror.EndToEnd.Tests.Portage;

/// <summary>
/// A Gentoo system in a directory for the reference portage: a copy of portage with the project's <c>ahm</c> sync
/// module added to its sync-module directory (lib/portage/sync/modules/ahm, where the ebuild installs it into
/// site-packages), run as a Prefix install rooted here (<c>PORTAGE_OVERRIDE_EPREFIX</c>, portage's own test suite's
/// way), so every file portage writes (repo_revisions, caches, emerge.log) stays in this directory. It has a
/// repo.postsync.d hook and an <c>ahm-sync</c> on PATH that record each call, then run the built ahm-sync.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal sealed class PortageRoot : IDisposable
{
    private readonly TempDir _dir = new("ahm-portage");

    private PortageRoot()
    {
    }

    public static async Task<PortageRoot> CreateAsync()
    {
        var root = new PortageRoot();
        try
        {
            await root.InstallAsync();
            return root;
        }
        catch
        {
            root.Dispose();
            throw;
        }
    }

    private async Task InstallAsync()
    {
        var reference = ReferencePortage.Directory ?? throw new InvalidOperationException(ReferencePortage.SkipReason);
        await CopyAsync(reference, PortageDir);
        await CopyAsync(Path.Combine(PackagingTree.Repository, "sync-client", "portage", "ahm"), Path.Combine(PortageDir, "lib", "portage", "sync", "modules", "ahm"));

        // A Prefix install finds its sets configuration under EPREFIX, and news wants a profile: a minimal one.
        await CopyAsync(Path.Combine(reference, "cnf", "sets"), Path.Combine(Root, "usr", "share", "portage", "config", "sets"));
        Directory.CreateDirectory(Path.Combine(ConfigDir, "make.profile"));
        File.WriteAllText(Path.Combine(ConfigDir, "make.profile", "eapi"), "8\n");
        File.WriteAllText(Path.Combine(ConfigDir, "make.profile", "make.defaults"), "ARCH=\"amd64\"\nACCEPT_KEYWORDS=\"amd64\"\n");
        Directory.CreateDirectory(Path.Combine(ConfigDir, "repos.conf"));
        File.WriteAllText(Path.Combine(ConfigDir, "make.conf"), """
            FEATURES="-usersync -userfetch -userpriv -sandbox -usersandbox"
            NOCOLOR="true"
            """);
        Executable(Path.Combine(ConfigDir, "repo.postsync.d", "record"), $"""
            #!/bin/sh
            echo "$1 $2 $3" >> '{HookLog}'
            """);
        Executable(Path.Combine(BinDir, "ahm-sync"), $"""
            #!/bin/sh
            echo "$*" >> '{CallLog}'
            exec dotnet '{Path.Combine(AppContext.BaseDirectory, "ahm-sync.dll")}' "$@"
            """);
    }

    public string Root => _dir.Combine("root");

    public string PortageDir => _dir.Combine("portage");

    public string ConfigDir => Path.Combine(Root, "etc", "portage");

    public string BinDir => _dir.Combine("bin");

    /// <summary>Where a repository lives on this system (EPREFIX/var/db/repos/NAME).</summary>
    public string RepositoryPath(string name = "gentoo") => Path.Combine(Root, "var", "db", "repos", name);

    public string HookLog => _dir.Combine("hooks.log");

    public string CallLog => _dir.Combine("ahm-sync-calls.log");

    /// <summary>Each repo.postsync.d hook run: "NAME URI LOCATION".</summary>
    public IReadOnlyList<string> HookCalls => File.Exists(HookLog) ? File.ReadAllLines(HookLog) : [];

    /// <summary>Each ahm-sync command line the module ran.</summary>
    public IReadOnlyList<string> AhmSyncCalls => File.Exists(CallLog) ? File.ReadAllLines(CallLog) : [];

    /// <summary>The repository's section of repos.conf (and a DEFAULT naming gentoo the main repository).</summary>
    public void ReposConf(string section) =>
        File.WriteAllText(Path.Combine(ConfigDir, "repos.conf", "gentoo.conf"), "[DEFAULT]\nmain-repo = gentoo\n\n" + section.Trim() + "\n");

    /// <summary>The revisions portage recorded per repository (EROOT/var/lib/portage/repo_revisions, from the module's retrieve_head).</summary>
    public IReadOnlyDictionary<string, string[]> RepoRevisions
    {
        get
        {
            var file = Path.Combine(Root, "var", "lib", "portage", "repo_revisions");
            return File.Exists(file) && new FileInfo(file).Length > 0
                ? JsonSerializer.Deserialize<Dictionary<string, string[]>>(File.ReadAllText(file))!
                : new Dictionary<string, string[]>();
        }
    }

    /// <summary><c>emaint sync -r NAME</c>.</summary>
    public Task<PortageRun> EmaintSyncAsync(string repo = "gentoo") => RunAsync("emaint", "sync", "-r", repo);

    /// <summary><c>emerge --sync [ARGS]</c>.</summary>
    public Task<PortageRun> EmergeSyncAsync(params string[] extra) => RunAsync("emerge", ["--sync", .. extra]);

    public async Task<PortageRun> RunAsync(string program, params string[] arguments)
    {
        var environment = new Dictionary<string, string>
        {
            ["PYTHONPATH"] = Path.Combine(PortageDir, "lib"),
            ["PORTAGE_OVERRIDE_EPREFIX"] = Root,
            ["PORTAGE_CONFIGROOT"] = Root,
            ["PATH"] = BinDir + ":" + Environment.GetEnvironmentVariable("PATH"),
            ["TERM"] = "dumb",
        };
        if (Environment.UserName == "root")
        {
            // Outside Gentoo there is no portage user; as root, portage then runs as root anyway.
            environment["PORTAGE_USERNAME"] = "root";
            environment["PORTAGE_GRPNAME"] = "root";
        }

        var run = await ExternalProcess.RunAsync(ReferencePortage.Python, [Path.Combine(PortageDir, "bin", program), .. arguments],
            workingDirectory: _dir.Path, environment: environment, timeout: TimeSpan.FromMinutes(3));
        return new PortageRun($"{program} {string.Join(' ', arguments)}", run.ExitCode, run.Stdout + run.Stderr);
    }

    public void Dispose() => _dir.Dispose();

    private static async Task CopyAsync(string from, string to)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(to)!);
        (await ExternalProcess.RunAsync("cp", ["-a", "--", from, to])).EnsureSuccess($"cp -a {from} {to}");
    }

    private static void Executable(string path, string text)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text.ReplaceLineEndings("\n") + "\n");
        File.SetUnixFileMode(path, (UnixFileMode)0b111_101_101);
    }
}

/// <summary>What a portage command printed (stdout and stderr together, as a user sees them) and its exit code.</summary>
internal sealed record PortageRun(string Command, int ExitCode, string Output)
{
    public IReadOnlyList<string> Lines => Output.Split('\n', StringSplitOptions.TrimEntries);

    public override string ToString() => $"{Command}: exit {ExitCode}\n{Output}";
}
