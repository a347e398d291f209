using System.Diagnostics;
using AdHocMirror.Testing;
using AdHocMirror.Testing.Trees;
using AdHocMirror.Tree.Apply;
using AdHocMirror.Tree.Manifests;
using AdHocMirror.Tree.OpenPgp;

namespace AdHocMirror.Tree.Tests.Apply;

/// <summary>
/// kill -9 of a real process in the middle of swapping trees, at arbitrary instants: a child loops over the very rename
/// steps <see cref="TreeSwap"/> performs (the RENAME_EXCHANGE primitive, or the two-rename fallback with the same sibling
/// names) and is killed while it runs; <see cref="TreeSwap.Recover"/> must then leave a complete, verified tree.
/// </summary>
public sealed class KilledSwapTests
{
    private static readonly DateTimeOffset V1 = new(2026, 11, 21, 0, 45, 1, TimeSpan.Zero);
    private static readonly DateTimeOffset V2 = V1.AddHours(1);

    private const string FallbackLoop = """
        set -e
        cd "$1"
        n=0
        while :; do
          mv -T .gentoo.ahm-staging-loop .gentoo.ahm-verified
          mv -T gentoo .gentoo.ahm-previous
          mv -T .gentoo.ahm-verified gentoo
          mv -T .gentoo.ahm-previous .gentoo.ahm-staging-loop
          n=$((n+1)); echo $n > ../count
        done
        """;

    private const string ExchangeLoop = """
        import ctypes, os, sys
        libc = ctypes.CDLL(None, use_errno=True)
        os.chdir(sys.argv[1])
        n = 0
        while True:
            if libc.renameat2(-100, b".gentoo.ahm-staging-loop", -100, b"gentoo", 2) != 0:
                raise OSError(ctypes.get_errno(), "renameat2")
            n += 1
            if n % 50 == 0:
                with open("../count", "w") as f:
                    f.write(str(n))
        """;

    [Theory]
    [InlineData("fallback")]
    [InlineData("exchange")]
    public async Task Killing_a_swap_at_any_instant_leaves_the_old_or_the_new_verified_tree(string mode)
    {
        using var temp = new TempDir("ahm-kill");
        var key = await TestSigningKey.SharedAsync();
        var v1 = temp.Combine("v1");
        var v2 = temp.Combine("v2");
        await GentooTree.CreateAsync(v1, new GentooTreeOptions { Files = 40, Timestamp = V1 }, key);
        (await ExternalProcess.RunAsync("cp", ["-a", v1, v2])).EnsureSuccess("cp");
        await GentooTree.NextVersionAsync(v2, seed: 3, changes: 12, V2, key);
        await using var keyring = await OpenPgpKeyring.OpenAsync(key.PublicKeyFile);
        var parent = temp.Combine("repos");
        var repo = Path.Combine(parent, "gentoo");
        var count = temp.Combine("count");
        Directory.CreateDirectory(parent);
        (await ExternalProcess.RunAsync("cp", ["-a", v1, repo])).EnsureSuccess("cp");

        for (var round = 1; round <= 6; round++)
        {
            var installed = (await new ManifestTreeVerifier().ReadSignedVersionAsync(repo, keyring)).Version.Generated;
            (await ExternalProcess.RunAsync("cp", ["-a", installed == V1 ? v2 : v1, Path.Combine(parent, ".gentoo.ahm-staging-loop")])).EnsureSuccess("cp");
            File.Delete(count);
            var start = mode == "fallback"
                ? new ProcessStartInfo("sh", ["-c", FallbackLoop, "sh", parent])
                : new ProcessStartInfo("/usr/bin/python3", ["-c", ExchangeLoop, parent]);
            start.UseShellExecute = false;
            start.RedirectStandardError = true;
            using var child = Process.Start(start)!;
            var errors = child.StandardError.ReadToEndAsync();

            // Let it run a round-dependent number of swaps, then SIGKILL it wherever it is.
            await Eventually.TrueAsync(() => child.HasExited || (File.Exists(count) && int.TryParse(File.ReadAllText(count), out var n) && n >= round * 3), "swaps to run");
            Assert.False(child.HasExited, child.HasExited ? await errors : null);
            child.Kill(entireProcessTree: true); // SIGKILL to the loop and any mv it is running
            await child.WaitForExitAsync();

            TreeSwap.Recover(repo);

            var result = await new ManifestTreeVerifier().VerifyAsync(repo, keyring);
            Assert.True(result.Succeeded, $"round {round}: {result.Summary}");
            Assert.Contains(result.Version.Generated, new[] { V1, V2 });
            Assert.Equal(["gentoo", ".gentoo.ahm-lock"], Directory.EnumerateFileSystemEntries(parent).Select(Path.GetFileName).Order(StringComparer.Ordinal).Reverse());
        }
    }
}
