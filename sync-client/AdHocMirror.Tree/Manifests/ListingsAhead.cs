using System.Collections.Concurrent;
using AdHocMirror.Tree.Native;
using AdHocMirror.Tree.OpenPgp;

namespace AdHocMirror.Tree.Manifests;

/// <summary>
/// The directory listings that verification with a reference needs (README "Skipping unchanged files"), read while the
/// transfer into the staged tree still runs: rsync leaves most of a core idle, and listing both trees is the larger part
/// of verifying an incremental sync. Each listing carries its directory's stamp; verification afterwards lists again
/// only the staged directories whose stamp changed (those rsync wrote into), so what it uses is the staged tree as it
/// is then; the reference's listings are used as read (see <see cref="ListedTrees.Read"/>).
/// Made with the reference's IGNOREs, used only when the new tree's top-level Manifest IGNOREs the same paths.
/// </summary>
public sealed class ListingsAhead : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource<ListedAhead?> _listing = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _gate = new();
    private (int Tid, int Nice)? _lowered;
    private bool _hurried;

    private ListingsAhead(string stagedRoot, string referenceRoot)
    {
        // One thread at nice 19: it takes only the CPU that the transfer leaves idle, so rsync is not slowed by it.
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = 1, CancellationToken = _stop.Token };
        new Thread(() =>
        {
            lock (_gate)
            {
                if (!_hurried)
                {
                    _lowered = IdlePriority.LowerCurrentThread();
                }
            }

            try
            {
                _listing.SetResult(Read(stagedRoot, referenceRoot, parallel));
            }
            catch (Exception e)
            {
                _listing.SetException(e);
            }
        })
        { IsBackground = true, Name = "listings ahead" }.Start();
    }

    /// <summary>Starts listing <paramref name="stagedRoot"/> (about to be written into) and <paramref name="referenceRoot"/> in the background.</summary>
    public static ListingsAhead Start(string stagedRoot, string referenceRoot) => new(Path.GetFullPath(stagedRoot), Path.GetFullPath(referenceRoot));

    /// <summary>
    /// The transfer has ended: what is left of the listing is waited for now, so it runs at normal priority from here
    /// on (where raising a priority is allowed: see <see cref="IdlePriority"/>).
    /// </summary>
    public void Hurry()
    {
        lock (_gate)
        {
            _hurried = true;
            if (_lowered is { } lowered && !_listing.Task.IsCompleted && IdlePriority.Restore(lowered))
            {
                _lowered = null;
            }
        }
    }

    /// <summary>The listings, when they were read for these trees with these IGNOREs; null otherwise (list afresh).</summary>
    internal async Task<ListedAhead?> TakeAsync(string stagedRoot, string referenceRoot, IReadOnlyCollection<string> ignored)
    {
        ListedAhead? ahead;
        try
        {
            ahead = await _listing.Task;
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or UnauthorizedAccessException)
        {
            return null;
        }

        return ahead is not null && ahead.StagedRoot == stagedRoot && ahead.ReferenceRoot == referenceRoot && ahead.Ignored.SetEquals(ignored)
            ? ahead
            : null;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _listing.Task;
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or UnauthorizedAccessException)
        {
            // Stopped, or could not list: verification lists for itself.
        }

        _stop.Dispose();
    }

    private static ListedAhead? Read(string stagedRoot, string referenceRoot, ParallelOptions parallel)
    {
        byte[] top;
        try
        {
            top = File.ReadAllBytes(Path.Combine(referenceRoot, "Manifest"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        if (ClearSignedText.TryGetBody(top, out _) is not { } body
            || !ListedTrees.CanProveIdentity(stagedRoot, referenceRoot, out _))
        {
            return null;
        }

        // Unverified here, and need not be: these IGNOREs only decide what is listed, and are used only if the new tree's equal them.
        var manifest = new ManifestSet();
        manifest.Add(body, string.Empty, "Manifest", [], []);
        var ignored = manifest.Ignored.ToHashSet(StringComparer.Ordinal);
        var clock = DirectoryReader.CoarseNow();
        var staged = new ConcurrentDictionary<string, ListedTrees.Listing>(StringComparer.Ordinal);
        var reference = new ConcurrentDictionary<string, ListedTrees.Listing>(StringComparer.Ordinal);
        ListedTrees.ListInto([new(stagedRoot, staged, null), new(referenceRoot, reference, null)], ListedTrees.IgnoredByDirectory(ignored), null, parallel);
        return new ListedAhead(stagedRoot, referenceRoot, ignored, clock, staged, reference, ReadReferenceManifests(referenceRoot, body, parallel.CancellationToken));
    }

    /// <summary>
    /// The reference's large sub-Manifests as line sets, reached through large ones from the top: a category's or a cache
    /// directory's, which list a hundred entries or more (tens of kilobytes, as their hashes do not compress) and differ
    /// in almost every sync, so that verification compares the new tree's lines with them without reading them after
    /// the transfer. A package's Manifest is small, and verification reads the few of the packages that changed itself.
    /// The reference is the installed tree, which nothing writes into during a sync.
    /// </summary>
    private static Dictionary<string, HashSet<string>> ReadReferenceManifests(string referenceRoot, IReadOnlyList<string> top, CancellationToken cancellationToken)
    {
        const int MaxManifests = 1024;
        const long LargeManifest = 4096;
        var read = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        var pending = new Queue<(string Directory, IEnumerable<string> Lines)>();
        pending.Enqueue((string.Empty, top));
        while (pending.TryDequeue(out var manifest) && read.Count < MaxManifests)
        {
            foreach (var line in manifest.Lines)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (!line.StartsWith("MANIFEST ", StringComparison.Ordinal)
                    || ManifestEntry.Parse(line.TrimEnd('\r'), manifest.Directory, out _) is not { } entry
                    || entry.Size < LargeManifest || read.ContainsKey(entry.Path)
                    || UnchangedReference.ReadLineSet(Path.Combine(referenceRoot, entry.Path)) is not { } lines)
                {
                    continue;
                }

                read[entry.Path] = lines;
                pending.Enqueue((UnchangedReference.Split(entry.Path).Directory, lines));
            }
        }

        return read;
    }
}

/// <summary>Listings read ahead: the clock reading taken before the first of them, and the IGNOREs they leave out.</summary>
internal sealed record ListedAhead(
    string StagedRoot, string ReferenceRoot, HashSet<string> Ignored, ClockReading ListedFrom,
    IReadOnlyDictionary<string, ListedTrees.Listing> Staged, IReadOnlyDictionary<string, ListedTrees.Listing> Reference,
    IReadOnlyDictionary<string, HashSet<string>> ReferenceManifests);
