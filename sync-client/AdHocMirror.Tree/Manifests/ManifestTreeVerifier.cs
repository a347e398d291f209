using System.Collections.Concurrent;
using System.Diagnostics;
using System.IO.Enumeration;
using System.Security.Cryptography;
using System.Text;
using AdHocMirror.Tree.Native;
using AdHocMirror.Tree.OpenPgp;
using AdHocMirror.Tree.Versions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AdHocMirror.Tree.Manifests;

/// <summary>
/// Verifies an rsync tree by its GLEP 74 Manifest tree: the top-level <c>Manifest</c> must be cleartext-signed by a
/// key of the keyring and carry a TIMESTAMP (the tree's version); every sub-Manifest (plain or .gz) must match its
/// MANIFEST entry; every DATA/EBUILD/AUX/MISC file must exist with the listed size and SHA512; no other file may be
/// present outside IGNOREd paths. Files stream through SHA512 on every core; only Manifests are held in memory.
/// </summary>
public sealed partial class ManifestTreeVerifier
{
    private const int WholeFileLimit = 1 << 20;
    private const long MaxTopManifest = 16 << 20;
    [ThreadStatic] private static byte[]? t_buffer;

    private readonly ManifestVerifierOptions _options;
    private readonly ILogger _logger;

    public ManifestTreeVerifier(ManifestVerifierOptions? options = null, ILogger<ManifestTreeVerifier>? logger = null)
    {
        _options = options ?? new ManifestVerifierOptions();
        _logger = logger ?? (ILogger)NullLogger.Instance;
    }

    /// <summary>
    /// Checks only the top-level Manifest's signature and returns its TIMESTAMP: the version of a tree that was verified
    /// in full when it was installed (ahm-sync's "current version"), at the cost of one gpg call.
    /// </summary>
    public async Task<TreeVerification> ReadSignedVersionAsync(string treeRoot, OpenPgpKeyring keyring, CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        var top = await ReadTopAsync(Path.GetFullPath(treeRoot), keyring, cancellationToken);
        return new TreeVerification
        {
            Problems = [.. top.Problems],
            SignedVersion = top.Version,
            SignedBy = top.SignedBy,
            Elapsed = clock.Elapsed,
        };
    }

    /// <summary>Verifies the tree at <paramref name="treeRoot"/>; never throws for a bad tree, only reports it.</summary>
    public async Task<TreeVerification> VerifyAsync(string treeRoot, OpenPgpKeyring keyring, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keyring);
        var clock = Stopwatch.StartNew();
        var root = Path.GetFullPath(treeRoot);
        var top = await ReadTopAsync(root, keyring, cancellationToken, _options.HashedAhead is { } early && early.Root == root ? early : null);
        if (top.Body is null)
        {
            return new TreeVerification { Problems = [.. top.Problems], Elapsed = clock.Elapsed };
        }

        var phases = new List<VerificationPhase>(5);
        var phaseStart = TimeSpan.Zero;
        void EndPhase(string name)
        {
            phases.Add(new VerificationPhase(name, clock.Elapsed - phaseStart));
            phaseStart = clock.Elapsed;
        }

        EndPhase("signature");
        var problems = new ConcurrentBag<TreeProblem>(top.Problems);
        var expectations = new ManifestSet();
        var queue = new List<ManifestEntry>();
        expectations.Add(top.Body, string.Empty, "Manifest", problems, queue);
        var version = top.Version;
        var signature = top.SignedBy;
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, _options.MaxParallelism), CancellationToken = cancellationToken };
        var reference = _options.UnchangedReference is { } referenceRoot
            ? await UnchangedReference.OpenAsync(Path.GetFullPath(referenceRoot), root, expectations, parallel, _options.ListedAhead)
            : null;
        if (reference is not null)
        {
            EndPhase("listings");
        }

        var ahead = _options.HashedAhead is { } hashing && hashing.Root == root ? hashing : null;
        await LoadSubManifestsAsync(root, expectations, queue, problems, parallel, reference, ahead);
        EndPhase("sub-Manifests");

        long files = 0, bytes = 0, hashedAhead = 0;
        if (ahead is not null)
        {
            // From here on the tree is complete: what was not hashed during the transfer is hashed below, on every core.
            await ahead.StopAsync();
        }

        var walk = new TreeWalk(root, expectations, problems, reference, parallel);
        void CheckOne(Expectation expectation)
        {
            var full = Path.Combine(root, expectation.Entry.Path);
            TreeProblem? problem;
            if (ahead is not null && ahead.TryGet(expectation.Entry.Path, full, out var size, out var sha512))
            {
                problem = Judge(expectation.Entry, size, sha512);
                Interlocked.Increment(ref hashedAhead);
            }
            else
            {
                problem = Check(full, expectation.Entry);
            }

            if (problem is not null)
            {
                problems.Add(problem);
            }

            Interlocked.Increment(ref files);
            Interlocked.Add(ref bytes, expectation.Entry.Size);
        }

        // Off the caller's thread: the walk and the hashing are synchronous and take seconds on a full tree.
        await Task.Run(() =>
        {
            walk.Run(CheckOne);
            if (reference is not null)
            {
                // Entries that a Manifest outside a proven directory declares for a file inside it: checked on their own.
                var inside = expectations.All().Where(e => !e.Seen && reference.IsInsideProven(e.Path)).ToList();
                foreach (var expectation in inside)
                {
                    expectation.Seen = true;
                }

                Parallel.ForEach(inside.Where(e => e.Entry.Tag != ManifestTag.Manifest && e.Entry.Sha512 is not null), parallel, CheckOne);
            }
        }, cancellationToken);
        var skipped = walk.Skipped;
        EndPhase("walk and hashes");

        foreach (var missing in expectations.Unseen())
        {
            problems.Add(new TreeProblem(missing.Path, TreeProblemKind.Missing, $"listed in {missing.DeclaredIn} but absent"));
        }

        var delta = reference?.Listed.Delta();
        var sorted = problems.OrderBy(p => p.Path, StringComparer.Ordinal).ThenBy(p => p.Kind).ToList();
        EndPhase(delta is null ? "report" : "delta");
        Log.Verified(_logger, root, version?.ToString() ?? "-", files, skipped, sorted.Count, clock.Elapsed.TotalSeconds);
        return new TreeVerification
        {
            Problems = sorted,
            SignedVersion = version,
            SignedBy = signature,
            FilesChecked = files,
            BytesChecked = bytes,
            FilesSkipped = skipped,
            FilesHashedAhead = hashedAhead,
            Delta = delta,
            Elapsed = clock.Elapsed,
            Phases = phases,
        };
    }

    private sealed record TopManifest(IReadOnlyList<string>? Body, TreeVersion? Version, string? SignedBy, IReadOnlyList<TreeProblem> Problems);

    /// <summary>Reads the top-level Manifest once; gpg checks the very bytes that are parsed, so nothing can change in between.</summary>
    /// <remarks>
    /// With <paramref name="ahead"/>, gpg's answer for these very bytes and this keyring, when it was asked while the
    /// tree arrived, is taken instead of asking again: the same question, the same answer.
    /// </remarks>
    private static async Task<TopManifest> ReadTopAsync(string root, OpenPgpKeyring keyring, CancellationToken cancellationToken, FilesHashedAhead? ahead = null)
    {
        ArgumentNullException.ThrowIfNull(keyring);
        static TopManifest Fail(string detail) => new(null, null, null, [new TreeProblem("Manifest", TreeProblemKind.Signature, detail)]);
        byte[] top;
        try
        {
            var path = Path.Combine(root, "Manifest");
            if (!FileIdentity.IsRegularFileOrUnknown(path) || new FileInfo(path).Length > MaxTopManifest)
            {
                return Fail($"the top-level Manifest is not a regular file of at most {MaxTopManifest} bytes");
            }

            top = await File.ReadAllBytesAsync(path, cancellationToken);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Fail($"cannot read the top-level Manifest: {e.Message}");
        }

        var body = ClearSignedText.TryGetBody(top, out var shapeError);
        if (body is null)
        {
            return Fail(shapeError!);
        }

        var signature = (ahead is not null ? await ahead.SignatureOfAsync(top, keyring) : null)
            ?? await keyring.VerifyClearSignedAsync(top, cancellationToken);
        if (!signature.IsGood)
        {
            return Fail(signature.Detail);
        }

        var timestamps = body.Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(f => f.Length > 0 && f[0] == "TIMESTAMP").ToList();
        if (timestamps.Count != 1 || timestamps[0].Length != 2)
        {
            return new TopManifest(body, null, signature.PrimaryKeyFingerprint,
                [new TreeProblem("Manifest", TreeProblemKind.MalformedManifest, $"expected one TIMESTAMP line, found {timestamps.Count}")]);
        }

        try
        {
            return new TopManifest(body, TreeVersion.FromManifestTimestamp(timestamps[0][1]), signature.PrimaryKeyFingerprint, []);
        }
        catch (FormatException e)
        {
            return new TopManifest(body, null, signature.PrimaryKeyFingerprint, [new TreeProblem("Manifest", TreeProblemKind.MalformedManifest, e.Message)]);
        }
    }

    /// <summary>
    /// Loads sub-Manifests level by level, each checked against its MANIFEST entry before it is parsed. With a reference,
    /// proven subtrees are not loaded, and the reference's differing counterparts are loaded beside.
    /// </summary>
    private static async Task LoadSubManifestsAsync(string root, ManifestSet expectations, List<ManifestEntry> queue, ConcurrentBag<TreeProblem> problems, ParallelOptions parallel, UnchangedReference? reference, FilesHashedAhead? ahead)
    {
        while (queue.Count > 0)
        {
            var level = queue.ToArray();
            queue.Clear();
            if (reference is not null)
            {
                var load = new List<ManifestEntry>();
                var loadOld = new List<string>();
                foreach (var entry in level)
                {
                    reference.Triage(entry, expectations, load, loadOld);
                }

                // The reference's lines are needed only by the next level's triage: read them beside this level.
                var old = reference.LoadAsync(loadOld, parallel);
                await LoadLevelAsync(root, expectations, load, queue, problems, parallel, ahead);
                await old;
                continue;
            }

            await LoadLevelAsync(root, expectations, level, queue, problems, parallel, ahead);
        }
    }

    /// <summary>Loads the given sub-Manifests (in parallel) into <paramref name="expectations"/>; the MANIFEST entries they list go to <paramref name="next"/>.</summary>
    internal static async Task LoadLevelAsync(string root, ManifestSet expectations, IReadOnlyList<ManifestEntry> level, List<ManifestEntry> next, ConcurrentBag<TreeProblem> problems, ParallelOptions parallel, FilesHashedAhead? ahead = null)
    {
        // Read and parsed on every core; added in order, so that conflicts are judged the same way every time.
        var loaded = new (ManifestEntry Entry, ManifestSet.ParsedLine[]? Lines)[level.Count];
        await Parallel.ForAsync(0, level.Count, parallel, async (i, token) =>
        {
            var entry = level[i];
            if (ahead is not null && ahead.TryGetParsed(entry, Path.Combine(root, entry.Path), out var parsed))
            {
                loaded[i] = (entry, parsed); // the very bytes the entry signs, parsed while rsync ran
                return;
            }

            var lines = await ReadSubManifestAsync(root, entry, problems, token);
            loaded[i] = (entry, lines is null ? null : ManifestSet.Parse(lines, UnchangedReference.Split(entry.Path).Directory));
        });
        foreach (var (entry, lines) in loaded)
        {
            if (lines is not null)
            {
                expectations.AddParsed(lines, entry.Path, problems, next);
            }
        }
    }

    private static async Task<IReadOnlyList<string>?> ReadSubManifestAsync(string root, ManifestEntry entry, ConcurrentBag<TreeProblem> problems, CancellationToken token)
    {
        byte[] data;
        try
        {
            var full = Path.Combine(root, entry.Path);
            if (RegularFileReader.Supported)
            {
                // Four syscalls per Manifest (a full tree has ~28,000): open, statx on the descriptor, read, close.
                using var reader = RegularFileReader.Open(full, out var error, out var missing);
                if (reader is null)
                {
                    if (!missing)
                    {
                        problems.Add(new TreeProblem(entry.Path, TreeProblemKind.Unreadable, error ?? "cannot open"));
                    }

                    return null; // Missing: reported by the walk.
                }

                if (reader.Length != entry.Size)
                {
                    problems.Add(new TreeProblem(entry.Path, TreeProblemKind.SizeMismatch, $"size {reader.Length}, Manifest says {entry.Size}"));
                    return null;
                }

                // The signed size bounds what is read: an oversized file is refused before it is loaded.
                data = new byte[entry.Size];
                var offset = 0;
                int count;
                while (offset < data.Length && (count = reader.Read(data.AsSpan(offset))) > 0)
                {
                    offset += count;
                }

                if (offset != data.Length || reader.Read(stackalloc byte[1]) != 0)
                {
                    problems.Add(new TreeProblem(entry.Path, TreeProblemKind.SizeMismatch, "file changed size while being read"));
                    return null;
                }

                token.ThrowIfCancellationRequested();
            }
            else if (!FileIdentity.IsRegularFileOrUnknown(full))
            {
                problems.Add(new TreeProblem(entry.Path, TreeProblemKind.Unreadable, "not a regular file"));
                return null;
            }

            else
            {
                // The signed size bounds what is read: an oversized file is refused before it is loaded.
                var length = new FileInfo(full).Length;
                if (length != entry.Size)
                {
                    problems.Add(new TreeProblem(entry.Path, TreeProblemKind.SizeMismatch, $"size {length}, Manifest says {entry.Size}"));
                    return null;
                }

                data = await File.ReadAllBytesAsync(full, token);
            }
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null; // Reported as missing by the walk.
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problems.Add(new TreeProblem(entry.Path, TreeProblemKind.Unreadable, e.Message));
            return null;
        }

        if (data.LongLength != entry.Size)
        {
            problems.Add(new TreeProblem(entry.Path, TreeProblemKind.SizeMismatch, $"size {data.LongLength}, Manifest says {entry.Size}"));
            return null;
        }

        if (entry.Sha512 is null || !SHA512.HashData(data).AsSpan().SequenceEqual(entry.Sha512))
        {
            problems.Add(new TreeProblem(entry.Path, entry.Sha512 is null ? TreeProblemKind.UnsupportedHash : TreeProblemKind.HashMismatch, "sub-Manifest does not match its MANIFEST entry"));
            return null;
        }

        try
        {
            if (entry.Path.EndsWith(".bz2", StringComparison.Ordinal) || entry.Path.EndsWith(".xz", StringComparison.Ordinal) || entry.Path.EndsWith(".lzma", StringComparison.Ordinal))
            {
                problems.Add(new TreeProblem(entry.Path, TreeProblemKind.MalformedManifest, "unsupported Manifest compression"));
                return null;
            }

            return ManifestText.Lines(data, gzip: entry.Path.EndsWith(".gz", StringComparison.Ordinal));
        }
        catch (Exception e) when (e is InvalidDataException or DecoderFallbackException)
        {
            problems.Add(new TreeProblem(entry.Path, TreeProblemKind.MalformedManifest, e.Message));
            return null;
        }
    }

    private static TreeProblem? Check(string full, ManifestEntry entry)
    {
        try
        {
            if (RegularFileReader.Supported)
            {
                using var reader = RegularFileReader.Open(full, out var error, out var missing);
                return reader is null
                    ? new TreeProblem(entry.Path, missing ? TreeProblemKind.Missing : TreeProblemKind.Unreadable, error ?? "cannot open")
                    : Hash(entry, reader.Length, reader.Read);
            }

            if (!FileIdentity.IsRegularFileOrUnknown(full))
            {
                return new TreeProblem(entry.Path, TreeProblemKind.Unreadable, "not a regular file");
            }

            using var handle = File.OpenHandle(full, FileMode.Open, FileAccess.Read, FileShare.Read);
            long position = 0;
            return Hash(entry, RandomAccess.GetLength(handle), span =>
            {
                var read = RandomAccess.Read(handle, span, position);
                position += read;
                return read;
            });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new TreeProblem(entry.Path, TreeProblemKind.Unreadable, e.Message);
        }
    }

    private delegate int ReadInto(Span<byte> destination);

    /// <summary>Streams a file through SHA512: whole in one buffer when it fits (most do), else in 1 MiB pieces.</summary>
    private static TreeProblem? Hash(ManifestEntry entry, long length, ReadInto read)
    {
        if (length != entry.Size)
        {
            return new TreeProblem(entry.Path, TreeProblemKind.SizeMismatch, $"size {length}, Manifest says {entry.Size}");
        }

        Span<byte> hash = stackalloc byte[64];
        var buffer = t_buffer ??= new byte[WholeFileLimit];
        long offset = 0;
        if (length <= buffer.Length)
        {
            while (offset < length)
            {
                var count = read(buffer.AsSpan((int)offset, (int)(length - offset)));
                if (count == 0)
                {
                    return new TreeProblem(entry.Path, TreeProblemKind.SizeMismatch, "file shrank while being read");
                }

                offset += count;
            }

            SHA512.HashData(buffer.AsSpan(0, (int)length), hash);
        }
        else
        {
            using var incremental = IncrementalHash.CreateHash(HashAlgorithmName.SHA512);
            int count;
            while ((count = read(buffer)) > 0)
            {
                incremental.AppendData(buffer, 0, count);
                offset += count;
            }

            if (offset != length)
            {
                return new TreeProblem(entry.Path, TreeProblemKind.SizeMismatch, "file changed size while being read");
            }

            incremental.GetHashAndReset(hash);
        }

        return hash.SequenceEqual(entry.Sha512) ? null
            : new TreeProblem(entry.Path, TreeProblemKind.HashMismatch, "SHA512 differs from the Manifest");
    }

    /// <summary>The same judgement as <see cref="Hash"/>, on a size and hash read while the tree arrived.</summary>
    private static TreeProblem? Judge(ManifestEntry entry, long size, byte[] sha512) =>
        size != entry.Size ? new TreeProblem(entry.Path, TreeProblemKind.SizeMismatch, $"size {size}, Manifest says {entry.Size}")
        : sha512.AsSpan().SequenceEqual(entry.Sha512) ? null
        : new TreeProblem(entry.Path, TreeProblemKind.HashMismatch, "SHA512 differs from the Manifest");

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Verified {Root} ({Version}): {Files} files hashed, {Skipped} proved unchanged, {Problems} problems in {Seconds:F1}s")]
        public static partial void Verified(ILogger logger, string root, string version, long files, long skipped, int problems, double seconds);
    }
}
