using System.Diagnostics;
using System.Globalization;
using AdHocMirror.Testing;
using AdHocMirror.Testing.Trees;
using AdHocMirror.Tree.Apply;
using AdHocMirror.Tree.Processes;
using AdHocMirror.Tree.Rsync;

namespace AdHocMirror.Bench;

/// <summary>
/// <c>ahm-bench sync [--files N] [--changes N] [--rounds N] [--cache DIR] [--ahm-option OPTION]... [--ahm-sync DLL]</c> (e.g. <c>--ahm-option --hash-after-transfer</c>): wall time of the real <c>ahm-sync</c> process, published as the ebuild installs it unless <c>--ahm-sync</c> names another (first
/// sync into an empty repository, the incremental sync to the next version (from the spare that the first sync cloned in
/// the background after it ended), then the steady state: the incremental sync to the version after, from the spare
/// refreshed by the previous sync; full GLEP 74 verification and atomic swap included) against a bare <c>rsync</c> with portage's options of the same trees from the
/// same rsync daemon on loopback, in the same run, as paired rounds (median and spread). Target: ratio ≤ 1.1.
/// </summary>
public static class SyncBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var files = 150_000;
        var changes = 600;
        var rounds = 3;
        string? cache = null;
        var ahmOptions = new List<string>();
        string? ahmSync = null;
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--files": files = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--changes": changes = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--cache": cache = args[i + 1]; break;
                case "--rounds": rounds = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--ahm-option": ahmOptions.Add(args[i + 1]); break;
                case "--ahm-sync": ahmSync = Path.GetFullPath(args[i + 1]); break;
                default:
                    Console.Error.WriteLine($"unknown option {args[i]}; usage: ahm-bench sync [--files N] [--changes N] [--rounds N] [--cache DIR] [--ahm-option OPTION]... [--ahm-sync DLL]");
                    return 2;
            }
        }

        cache ??= Path.Combine(Path.GetTempPath(), $"ahm-bench-sync-{files}-{changes}");
        var v1 = Path.Combine(cache, "v1");
        var v2 = Path.Combine(cache, "v2");
        var v3 = Path.Combine(cache, "v3");
        var keyFile = Path.Combine(cache, "release-key.asc");
        var marker = Path.Combine(cache, "complete-v3");
        Console.WriteLine($"sync benchmark: {files:N0}-file generated tree, next version with {changes} changed files, {Environment.ProcessorCount} cores, cache {cache}");
        if (!File.Exists(marker))
        {
            if (Directory.Exists(cache))
            {
                Directory.Delete(cache, recursive: true);
            }

            Directory.CreateDirectory(cache);
            var generation = Stopwatch.StartNew();
            using var key = await TestSigningKey.CreateAsync("AHM Bench Sync Key");
            await GentooTree.CreateAsync(v1, new GentooTreeOptions { Files = files, Seed = 1, Timestamp = new DateTimeOffset(2026, 11, 20, 0, 45, 1, TimeSpan.Zero) }, key);
            (await ExternalProcess.RunAsync("cp", ["-a", "--", v1, v2], timeout: TimeSpan.FromMinutes(20))).EnsureSuccess("cp -a");
            await GentooTree.NextVersionAsync(v2, seed: 2, changes, new DateTimeOffset(2026, 11, 21, 0, 45, 1, TimeSpan.Zero), key);
            (await ExternalProcess.RunAsync("cp", ["-a", "--", v2, v3], timeout: TimeSpan.FromMinutes(20))).EnsureSuccess("cp -a");
            await GentooTree.NextVersionAsync(v3, seed: 3, changes, new DateTimeOffset(2026, 11, 22, 0, 45, 1, TimeSpan.Zero), key);
            File.Copy(key.PublicKeyFile, keyFile);
            await File.WriteAllTextAsync(marker, DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture));
            Console.WriteLine($"  generated in {generation.Elapsed.TotalSeconds:F1} s");
        }
        else
        {
            Console.WriteLine("  reusing the cached trees");
        }

        // Upstream's generator rewrites only the Manifests whose content changed (the others keep their file, and so
        // their mtime); GentooTree rewrites them all. Without this, every sync would re-send all ~28,000 package
        // Manifests, which a real incremental sync of the Gentoo tree does not.
        var unchangedManifests = Path.Combine(cache, "unchanged-manifests-keep-mtime");
        if (!File.Exists(unchangedManifests))
        {
            var kept = KeepUnchangedManifestTimes(v1, v2) + KeepUnchangedManifestTimes(v2, v3);
            await File.WriteAllTextAsync(unchangedManifests, kept.ToString(CultureInfo.InvariantCulture));
            Console.WriteLine($"  {kept:N0} unchanged Manifests of the next version keep their time");
        }

        ahmSync ??= await PublishAhmSyncAsync(Path.Combine(cache, "ahm-sync-published"));
        var work = Path.Combine(cache, "work");
        // A run that was interrupted may have left ahm-sync's detached work (rm -rf of a retired tree, cp -al of a spare)
        // running in there: wait for it, then remove what is left, tolerating entries that vanish meanwhile.
        await Leftovers.WaitForAsync(work, TimeSpan.FromMinutes(10));
        // Nothing is removed before or between the measured runs, only after the last: ext4 does not give out again an
        // inode freed less than 60 s ago (300 s while its table block is dirty), and after a 150,000-file tree was
        // removed, creating files scans past those (recently_deleted, find_inode_bit: two thirds of the machine's CPU in
        // the kernel), so the first sync after a removal took 2-6 times as long, whichever program ran it.
        if (Directory.Exists(work))
        {
            Directory.Move(work, work + "-left-" + DateTime.UtcNow.Ticks.ToString(CultureInfo.InvariantCulture));
        }

        Directory.CreateDirectory(work);
        var port = FreePort.Next();
        var config = Path.Combine(work, "rsyncd.conf");
        await File.WriteAllTextAsync(config, string.Join('\n',
            "use chroot = no", Environment.UserName == "root" ? "uid = root\ngid = root" : string.Empty, "reverse lookup = no",
            "[v1]", $"    path = {v1}", "    read only = yes",
            "[v2]", $"    path = {v2}", "    read only = yes",
            "[v3]", $"    path = {v3}", "    read only = yes", string.Empty));
        using var daemon = new Process
        {
            StartInfo = new ProcessStartInfo("rsync", ["--daemon", "--no-detach", "--config=" + config, "--address=127.0.0.1", "--port=" + port.ToString(CultureInfo.InvariantCulture)])
            {
                UseShellExecute = false,
                RedirectStandardError = true,
            },
        };
        using var dies = ChildStarter.Start(daemon, ledger: null); // an interrupted benchmark leaves no daemon behind
        try
        {
            var uri = $"rsync://127.0.0.1:{port}";
            await Eventually.TrueAsync(async () => (await ExternalProcess.RunAsync("rsync", ["--list-only", "--no-recursive", uri + "/v1/"])).ExitCode == 0, "rsync daemon answers");
            // Rounds interleave bare and ahm-sync so both see the same machine load (a shared 2-core box) and the same cache
            // state; odd rounds run bare first, even rounds ahm-sync first, so that neither always gets the warmer cache.
            // Each kind is reported as the median of the paired ratios with their spread.
            var first = new Paired("first sync (empty → v1)");
            var next = new Paired("incremental (v1 → v2)");
            var steady = new Paired("incremental (v2 → v3)");
            for (var round = 1; round <= rounds; round++)
            {
                var bare = Path.Combine(work, $"bare{round}", "gentoo");
                var repo = Path.Combine(work, $"repos{round}", "gentoo");
                Directory.CreateDirectory(bare);
                Directory.CreateDirectory(Path.GetDirectoryName(repo)!);
                var bareFirst = round % 2 == 1;
                var lines = new List<string>();
                foreach (var (kind, version) in new[] { (first, "v1"), (next, "v2"), (steady, "v3") })
                {
                    TimeSpan b = default, a = default;
                    string steps = string.Empty, bareStats = string.Empty;
                    TimeSpan background = default;
                    for (var turn = 0; turn < 2; turn++)
                    {
                        // Each run starts from the same cache state: nothing dirty left by the run before (its writeback
                        // would be charged to this one), the served version's files read into the page cache (the first
                        // run of a pair would otherwise read them from disk for both), and both destinations' inodes looked up.
                        await SettleAsync(Path.Combine(cache, version), [Path.GetDirectoryName(bare)!, Path.GetDirectoryName(repo)!]);
                        if ((turn == 0) == bareFirst)
                        {
                            (b, bareStats) = await TimeAsync("rsync", [.. PortageRsync.Options, "--no-human-readable", $"{uri}/{version}/", bare + "/"]);
                        }
                        else
                        {
                            (a, steps) = await TimeSyncAsync([.. AhmSync(ahmSync, repo, $"{uri}/{version}", keyFile, work), .. ahmOptions]);
                            background = await BackgroundWorkAsync(repo);
                        }
                    }

                    kind.Add(b, a);
                    lines.Add(string.Create(CultureInfo.InvariantCulture, $"    {kind.Name,-24} bare {b.TotalSeconds,6:F2} s   ahm-sync {a.TotalSeconds,6:F2} s   ratio {a / b:F2}\n      bare: {bareStats}\n      ahm-sync: {steps}; background work after exit {background.TotalSeconds:F2} s"));
                }

                Console.WriteLine($"  round {round} ({(bareFirst ? "bare rsync first" : "ahm-sync first")}), load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}:");
                lines.ForEach(Console.WriteLine);
            }

            Console.WriteLine($"  median (min–max) of {rounds} paired round(s):");
            foreach (var kind in new[] { first, next, steady })
            {
                Console.WriteLine($"  {kind}");
            }

            return 0;
        }
        finally
        {
            daemon.Kill(entireProcessTree: true);
            await daemon.WaitForExitAsync();
            await Leftovers.WaitForAsync(work, TimeSpan.FromMinutes(10));
            TreeRemoval.Remove(work);
            foreach (var left in Directory.EnumerateDirectories(cache, "work-left-*"))
            {
                TreeRemoval.Remove(left);
            }
        }
    }

    /// <summary>
    /// ahm-sync as users get it: <c>dotnet publish</c> (the ebuild's way), which compiles it ahead (ReadyToRun); the
    /// build output next to this benchmark is the fallback when the sources are not found above it.
    /// </summary>
    private static async Task<string> PublishAhmSyncAsync(string output)
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "AdHocMirror.sln")))
        {
            directory = directory.Parent;
        }

        var project = directory is null ? null : Path.Combine(directory.FullName, "sync-client", "AdHocMirror.Sync", "AdHocMirror.Sync.csproj");
        if (project is null || !File.Exists(project))
        {
            Console.WriteLine("  sources not found: timing the build output's ahm-sync (not compiled ahead)");
            return Path.Combine(AppContext.BaseDirectory, "ahm-sync.dll");
        }

        var run = await ExternalProcess.RunAsync("dotnet", ["publish", project, "-c", "Release", "-r", System.Runtime.InteropServices.RuntimeInformation.RuntimeIdentifier, "--self-contained", "false", "-o", output, "-nologo", "-v", "q"], timeout: TimeSpan.FromMinutes(10));
        run.EnsureSuccess("dotnet publish ahm-sync");
        Console.WriteLine($"  ahm-sync published (ReadyToRun) to {output}");
        return Path.Combine(output, "ahm-sync.dll");
    }

    private static string[] AhmSync(string ahmSync, string repo, string uri, string keyFile, string work) =>
    [
        ahmSync, "--repo", repo, "--no-coordinator", "--official", uri, "--keyring", keyFile,
        "--repos-conf", Path.Combine(work, "none"), "--postsync-dir", Path.Combine(work, "none"),
    ];

    /// <summary>
    /// Runs ahm-sync, timing the whole process and when each of its step lines appeared: startup until the transfer
    /// starts, the transfer, verification, the swap, and the rest until exit.
    /// </summary>
    private static async Task<(TimeSpan Elapsed, string Steps)> TimeSyncAsync(string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet", arguments) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        var clock = Stopwatch.StartNew();
        var marks = new List<(double At, string Line)>();
        using var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { Length: > 0 } line)
            {
                lock (marks)
                {
                    marks.Add((clock.Elapsed.TotalSeconds, line));
                }
            }
        };
        var errors = process.StandardError.ReadToEndAsync();
        process.BeginOutputReadLine();
        await process.WaitForExitAsync();
        var elapsed = clock.Elapsed;
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"ahm-sync exited {process.ExitCode}: {await errors}");
        }

        double At(string prefix) => marks.FirstOrDefault(m => m.Line.StartsWith(prefix, StringComparison.Ordinal)).At;
        var trying = At("trying ");
        var received = At("received ");
        var verified = At("verified ");
        var installed = At("installed ");
        var culture = CultureInfo.InvariantCulture;
        var receivedLine = marks.FirstOrDefault(m => m.Line.StartsWith("received ", StringComparison.Ordinal)).Line ?? string.Empty;
        var verifiedLine = marks.FirstOrDefault(m => m.Line.StartsWith("verified ", StringComparison.Ordinal)).Line ?? string.Empty;
        return (elapsed, string.Create(culture,
            $"startup+probe {trying:F2} s, transfer {received - trying:F2} s, verification {verified - received:F2} s, swap {installed - verified:F2} s, rest {elapsed.TotalSeconds - installed:F2} s\n        {receivedLine}\n        {verifiedLine}"));
    }

    /// <summary>
    /// Waits until ahm-sync's background work after exit (removal of a replaced tree, the clone of a first tree as the
    /// spare, the spare's refresh after an incremental sync) has finished, so the next measurement does not share the machine with it.
    /// </summary>
    private static async Task<TimeSpan> BackgroundWorkAsync(string repo)
    {
        var clock = Stopwatch.StartNew();
        var parent = Path.GetDirectoryName(repo)!;
        var prefix = "." + Path.GetFileName(repo);
        // After every rsync sync that installed a tree there is a spare, once the background clone (if any) is done.
        // The refresh of the spare after an incremental sync leaves its lists until it has ended.
        while (new[] { ".ahm-retired-*", ".ahm-cloning-*", ".ahm-refresh*" }.Any(marker => Directory.GetFileSystemEntries(parent, prefix + marker).Length > 0)
            || !Directory.Exists(Path.Combine(parent, prefix + ".ahm-spare")))
        {
            if (clock.Elapsed > TimeSpan.FromMinutes(10))
            {
                throw new TimeoutException("ahm-sync's background work did not end within 10 minutes");
            }

            await Task.Delay(50);
        }

        return clock.Elapsed;
    }

    private static async Task SettleAsync(string served, string[] destinations)
    {
        (await ExternalProcess.RunAsync("sync", [], timeout: TimeSpan.FromMinutes(10))).EnsureSuccess("sync");
        await WaitForIdleDisksAsync();
        var buffer = new byte[1 << 20];
        foreach (var file in Directory.EnumerateFiles(served, "*", SearchOption.AllDirectories))
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
            while (await stream.ReadAsync(buffer) > 0)
            {
            }
        }

        foreach (var destination in destinations)
        {
            foreach (var entry in new DirectoryInfo(destination).EnumerateFileSystemInfos("*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }))
            {
                _ = entry.LastWriteTimeUtc;
            }
        }
    }

    /// <summary>
    /// Waits (at most a minute) until no disk has been busy for a second. sync(1) returns once dirty pages are written,
    /// but an ext4 mounted with <c>discard</c> (this machine's) goes on trimming the blocks of the trees the previous
    /// round removed, and the run after would share the disk with that: the first sync of a round was the slow one of
    /// its pair whichever program it was.
    /// </summary>
    private static async Task WaitForIdleDisksAsync()
    {
        static long BusyMilliseconds() => File.ReadLines("/proc/diskstats")
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(fields => fields.Length > 12 && !fields[2].StartsWith("loop", StringComparison.Ordinal) && !fields[2].StartsWith("ram", StringComparison.Ordinal) && !fields[2].StartsWith("zram", StringComparison.Ordinal))
            .Sum(fields => long.TryParse(fields[12], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks) ? ticks : 0);
        if (!File.Exists("/proc/diskstats"))
        {
            return;
        }

        var waited = Stopwatch.StartNew();
        var busy = BusyMilliseconds();
        while (waited.Elapsed < TimeSpan.FromMinutes(1))
        {
            await Task.Delay(TimeSpan.FromSeconds(1));
            var now = BusyMilliseconds();
            if (now == busy)
            {
                return;
            }

            busy = now;
        }
    }

    private static int KeepUnchangedManifestTimes(string previous, string next)
    {
        var kept = 0;
        foreach (var manifest in Directory.EnumerateFiles(next, "Manifest*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(next, manifest);
            var old = Path.Combine(previous, relative);
            if (relative != "Manifest" && File.Exists(old) && File.ReadAllBytes(old).AsSpan().SequenceEqual(File.ReadAllBytes(manifest)))
            {
                File.SetLastWriteTimeUtc(manifest, File.GetLastWriteTimeUtc(old));
                kept++;
            }
        }

        return kept;
    }

    private static async Task<(TimeSpan Elapsed, string Stats)> TimeAsync(string program, string[] arguments)
    {
        var clock = Stopwatch.StartNew();
        var run = await ExternalProcess.RunAsync(program, arguments, timeout: TimeSpan.FromMinutes(30));
        var elapsed = clock.Elapsed;
        if (run.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} exited {run.ExitCode}: {run.Stderr}");
        }

        string Stat(string name) => run.Stdout.Split('\n').FirstOrDefault(l => l.StartsWith(name, StringComparison.Ordinal))?.Split(':')[1].Trim() ?? "?";
        return (elapsed, $"{Stat("Total bytes received")} bytes received, {Stat("Number of regular files transferred")} files");
    }
}
