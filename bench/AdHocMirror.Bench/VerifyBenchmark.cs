using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using AdHocMirror.Testing;
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

        Console.WriteLine($"  load average before: {LoadAverage()}");
        var cold = DropPageCache(out var why);
        var first = await MeasureAsync(verifier, tree, keyring);
        Report(cold ? "cold page cache" : "first run (page cache NOT dropped: " + why + ")", first);
        var warm = await MeasureAsync(verifier, tree, keyring);
        Report("warm page cache", warm);
        var (hashRate, perCpuSecond) = Sha512Rate();
        Console.WriteLine($"  SHA512 of in-memory 64 KiB blocks: {hashRate:F0} MB/s on all cores, {perCpuSecond:F0} MB per CPU-second");
        Console.WriteLine($"  warm verification: {warm.Result.BytesChecked / 1e6 / warm.Cpu.TotalSeconds:F0} MB per CPU-second (SHA512 alone: {perCpuSecond:F0}); "
            + $"wall-clock {warm.Result.BytesChecked / 1e6 / warm.Result.Elapsed.TotalSeconds / hashRate:P0} of the all-core SHA512 rate; load average now {LoadAverage()}");
        if (ExternalProcess.Exists("sha512sum"))
        {
            // The same files through coreutils on every core: what an established tool pays for open/read/hash.
            var clock = Stopwatch.StartNew();
            var run = await ExternalProcess.RunAsync("sh", ["-c", $"find . -type f ! -name Manifest ! -name Manifest.gz ! -name 'timestamp.*' -print0 | xargs -0 -P{Environment.ProcessorCount} -n 2000 sha512sum > /dev/null"],
                workingDirectory: tree, timeout: TimeSpan.FromMinutes(10));
            Console.WriteLine($"  reference, warm: find | xargs -P{Environment.ProcessorCount} sha512sum over the same files: {clock.Elapsed.TotalSeconds:F2} s{(run.ExitCode == 0 ? string.Empty : " (failed)")}");
        }

        return first.Result.Succeeded && warm.Result.Succeeded ? 0 : 1;
    }

    private static async Task<(TreeVerification Result, TimeSpan Cpu)> MeasureAsync(ManifestTreeVerifier verifier, string tree, OpenPgpKeyring keyring)
    {
        using var self = Process.GetCurrentProcess();
        var before = self.TotalProcessorTime;
        var result = await verifier.VerifyAsync(tree, keyring);
        self.Refresh();
        return (result, self.TotalProcessorTime - before);
    }

    private static void Report(string label, (TreeVerification Result, TimeSpan Cpu) run)
    {
        var (result, cpu) = run;
        var seconds = result.Elapsed.TotalSeconds;
        Console.WriteLine($"  {label}: {(result.Succeeded ? "verified " + result.Version : "FAILED " + result.Summary)}");
        Console.WriteLine($"    {result.FilesChecked:N0} files, {result.BytesChecked / 1e6:F1} MB in {seconds:F2} s: {result.FilesChecked / seconds:N0} files/s, {result.BytesChecked / 1e6 / seconds:F1} MB/s; CPU {cpu.TotalSeconds:F1} s");
    }

    private static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "unknown";
        }
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

    /// <summary>In-memory SHA512 rate: MB/s of wall-clock time on all cores, and MB per CPU-second (robust on a busy machine).</summary>
    private static (double WallClock, double PerCpuSecond) Sha512Rate()
    {
        var total = 0L;
        using var self = Process.GetCurrentProcess();
        var cpuBefore = self.TotalProcessorTime;
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
        var wall = clock.Elapsed.TotalSeconds;
        self.Refresh();
        return (total / 1e6 / wall, total / 1e6 / (self.TotalProcessorTime - cpuBefore).TotalSeconds);
    }
}
