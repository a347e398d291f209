using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using AdHocMirror.Tree.Native;

namespace AdHocMirror.Tree.Manifests;

/// <summary>The sub-Manifests of a tree being verified: each checked against its MANIFEST entry before it is parsed.</summary>
internal static class SubManifests
{
    /// <summary>
    /// Loads sub-Manifests level by level, each checked against its MANIFEST entry before it is parsed. With a reference,
    /// proven subtrees are not loaded, and the reference's differing counterparts are loaded beside.
    /// </summary>
    public static async Task LoadAllAsync(string root, ManifestSet expectations, List<ManifestEntry> queue, ConcurrentBag<TreeProblem> problems, ParallelOptions parallel, UnchangedReference? reference, FilesHashedAhead? ahead)
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
    public static async Task LoadLevelAsync(string root, ManifestSet expectations, IReadOnlyList<ManifestEntry> level, List<ManifestEntry> next, ConcurrentBag<TreeProblem> problems, ParallelOptions parallel, FilesHashedAhead? ahead = null)
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

            var lines = await ReadAsync(root, entry, problems, token);
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

    private static async Task<IReadOnlyList<string>?> ReadAsync(string root, ManifestEntry entry, ConcurrentBag<TreeProblem> problems, CancellationToken token)
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
                if (reader.ReadFully(data) != data.Length || reader.Read(stackalloc byte[1]) != 0)
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
}
