using System.Collections.Concurrent;
using System.Diagnostics;
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
    private const long MaxTopManifest = 16 << 20;

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
        await SubManifests.LoadAllAsync(root, expectations, queue, problems, parallel, reference, ahead);
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
                problem = FileCheck.Judge(expectation.Entry, size, sha512);
                Interlocked.Increment(ref hashedAhead);
            }
            else
            {
                problem = FileCheck.Check(full, expectation.Entry);
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

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Verified {Root} ({Version}): {Files} files hashed, {Skipped} proved unchanged, {Problems} problems in {Seconds:F1}s")]
        public static partial void Verified(ILogger logger, string root, string version, long files, long skipped, int problems, double seconds);
    }
}
