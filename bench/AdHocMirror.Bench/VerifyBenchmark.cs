using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using AdHocMirror.Testing.Trees;
using AdHocMirror.Tree.Manifests;
using AdHocMirror.Tree.OpenPgp;

namespace AdHocMirror.Bench;

/// <summary>
/// <c>ahm-bench verify [--files N] [--seed S] [--cache DIR]</c>: GLEP 74 verification of a full-size generated tree
/// (≈150,000 files, signed Manifests), cold page cache when this process may drop it, then warm; files/s and MB/s,
/// next to the in-memory SHA512 rate of all cores (the bound verification should approach).
/// </summary>
public static class VerifyBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var files = 150_000;
        var seed = 1;
        string? cache = null;
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--files": files = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--seed": seed = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--cache": cache = args[i + 1]; break;
                default:
                    Console.Error.WriteLine($"unknown option {args[i]}; usage: ahm-bench verify [--files N] [--seed S] [--cache DIR]");
                    return 2;
            }
        }

        cache ??= Path.Combine(Path.GetTempPath(), $"ahm-bench-tree-{files}-{seed}");
        var tree = Path.Combine(cache, "tree");
        var keyFile = Path.Combine(cache, "release-key.asc");
        var marker = Path.Combine(cache, "complete");
        Console.WriteLine($"verify benchmark: {files:N0}-file generated tree (seed {seed}) in {tree}, {Environment.ProcessorCount} cores");
        if (!File.Exists(marker))
        {
            if (Directory.Exists(cache))
            {
                Directory.Delete(cache, recursive: true);
            }

            Directory.CreateDirectory(cache);
            var clock = Stopwatch.StartNew();
            using var key = await TestSigningKey.CreateAsync("AHM Bench Release Key");
            await GentooTree.CreateAsync(tree, new GentooTreeOptions { Files = files, Seed = seed }, key);
            File.Copy(key.PublicKeyFile, keyFile);
            await File.WriteAllTextAsync(marker, DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture));
            Console.WriteLine($"  generated in {clock.Elapsed.TotalSeconds:F1} s");
        }
        else
        {
            Console.WriteLine("  reusing the cached tree");
        }

        await using var keyring = await OpenPgpKeyring.OpenAsync(keyFile);
        var verifier = new ManifestTreeVerifier();

        var cold = DropPageCache(out var why);
        var first = await verifier.VerifyAsync(tree, keyring);
        Report(cold ? "cold page cache" : "first run (page cache NOT dropped: " + why + ")", first);
        var warm = await verifier.VerifyAsync(tree, keyring);
        Report("warm page cache", warm);
        var hashRate = Sha512Rate();
        Console.WriteLine($"  SHA512 in memory, all cores: {hashRate:F0} MB/s; warm verification reaches {warm.BytesChecked / 1e6 / warm.Elapsed.TotalSeconds / hashRate:P0} of it");
        return first.Succeeded && warm.Succeeded ? 0 : 1;
    }

    private static void Report(string label, TreeVerification result)
    {
        var seconds = result.Elapsed.TotalSeconds;
        Console.WriteLine($"  {label}: {(result.Succeeded ? "verified " + result.Version : "FAILED " + result.Summary)}");
        Console.WriteLine($"    {result.FilesChecked:N0} files, {result.BytesChecked / 1e6:F1} MB in {seconds:F2} s: {result.FilesChecked / seconds:N0} files/s, {result.BytesChecked / 1e6 / seconds:F1} MB/s");
    }

    private static bool DropPageCache(out string why)
    {
        try
        {
            using (var sync = Process.Start(new ProcessStartInfo("sync") { UseShellExecute = false }))
            {
                sync?.WaitForExit();
            }

            File.WriteAllText("/proc/sys/vm/drop_caches", "3\n");
            why = string.Empty;
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.ComponentModel.Win32Exception)
        {
            why = e.Message;
            return false;
        }
    }

    private static double Sha512Rate()
    {
        var total = 0L;
        var clock = Stopwatch.StartNew();
        Parallel.For(0, Environment.ProcessorCount, _ =>
        {
            var buffer = new byte[64 * 1024];
            Span<byte> hash = stackalloc byte[64];
            var done = 0L;
            while (clock.Elapsed < TimeSpan.FromSeconds(2))
            {
                SHA512.HashData(buffer, hash);
                done += buffer.Length;
            }

            Interlocked.Add(ref total, done);
        });
        return total / 1e6 / clock.Elapsed.TotalSeconds;
    }
}
