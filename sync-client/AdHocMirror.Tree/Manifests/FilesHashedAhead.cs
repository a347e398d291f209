using System.Collections.Concurrent;
using System.Security.Cryptography;
using AdHocMirror.Tree.Native;
using AdHocMirror.Tree.OpenPgp;
using AdHocMirror.Tree.Rsync;

namespace AdHocMirror.Tree.Manifests;

/// <summary>
/// SHA512 of the files rsync reports received, computed while the transfer still runs, so that verification afterwards
/// hashes only what is not known yet. Nothing here decides anything: verification compares each hash with the signed
/// Manifests exactly as it compares a hash it computes itself, and takes one only when the file still has the
/// <see cref="ContentStamp"/> it had when it was read (same inode, size, mtime and ctime, the ctime older than the
/// clock read before the read began), so a file rewritten in place or replaced after it was hashed is hashed again.
/// A file is taken up once rsync reports the next one: by then it is complete and renamed into place.
/// A sub-Manifest is parsed here too (pure text work, bounded: at most the whole-file limit read and
/// <see cref="MaxInflatedManifest"/> inflated, since nothing has checked these bytes yet); verification takes the lines
/// only for the same content, by the same stamp and a hash equal to its MANIFEST entry's.
/// </summary>
public sealed class FilesHashedAhead : IAsyncDisposable
{
    private const int WholeFileLimit = 1 << 20;
    private const int RacyAttempts = 8;
    /// <summary>How long the hashing thread lets rsync run ahead once it has caught up: it takes files in batches this far apart.</summary>
    public static readonly TimeSpan BatchPause = TimeSpan.FromMilliseconds(5);

    /// <summary>Most a sub-Manifest parsed ahead may inflate to; a real one is well under a megabyte.</summary>
    private const int MaxInflatedManifest = 16 << 20;

    private readonly BlockingCollection<string> _released = [];
    private readonly ConcurrentDictionary<string, HashedFile> _hashed = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _gate = new();
    private readonly OpenPgpKeyring? _keyring;
    private string? _pending;
    private long _reused;
    private const long MaxTopManifest = 16 << 20;
    private volatile Task<(byte[] Bytes, SignatureCheck Check)?>? _top;

    private FilesHashedAhead(string stagedRoot, OpenPgpKeyring? keyring, bool idle)
    {
        Root = stagedRoot;
        _keyring = keyring;
        new Thread(() =>
        {
            if (idle)
            {
                IdlePriority.LowerCurrentThread();
            }

            try
            {
                Work();
            }
            finally
            {
                _stopped.TrySetResult();
            }
        })
        { IsBackground = true, Name = "files hashed ahead" }.Start();
    }

    /// <summary>The staged tree (full path).</summary>
    public string Root { get; }

    /// <summary>Files hashed so far (whether or not verification uses them).</summary>
    public long Hashed => _hashed.Count;

    /// <summary>Hashes that verification took instead of reading the file again.</summary>
    public long Reused => Interlocked.Read(ref _reused);

    /// <summary>
    /// Starts hashing files of <paramref name="stagedRoot"/> as they are reported; with <paramref name="keyring"/>, the
    /// top-level Manifest's signature is checked as soon as it has arrived too. <paramref name="idle"/> runs at nice 19.
    /// </summary>
    public static FilesHashedAhead Start(string stagedRoot, OpenPgpKeyring? keyring = null, bool idle = false) => new(Path.GetFullPath(stagedRoot), keyring, idle);

    /// <summary>gpg's answer for exactly <paramref name="document"/> with <paramref name="keyring"/>, when it was asked during the transfer; else null.</summary>
    internal async Task<SignatureCheck?> SignatureOfAsync(byte[] document, OpenPgpKeyring keyring)
    {
        if (_top is null || !ReferenceEquals(keyring, _keyring))
        {
            return null;
        }

        try
        {
            return await _top is { } top && top.Bytes.AsSpan().SequenceEqual(document) ? top.Check : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }

    /// <summary>rsync has started or finished writing <paramref name="relativePath"/>: the file reported before it is final.</summary>
    public void Received(string relativePath)
    {
        lock (_gate)
        {
            if (_pending is not null && !_released.IsAddingCompleted)
            {
                _released.Add(_pending);
            }

            _pending = relativePath;
        }
    }

    /// <summary>One line of rsync's output (<see cref="RsyncItemized.OutFormat"/>); anything but a received file is ignored.</summary>
    public void ReceivedRecord(string record)
    {
        if (RsyncItemized.TryGetReceivedFile(record, out var path))
        {
            Received(path);
        }
    }

    /// <summary>The transfer has ended: the file reported last is final too. Hashing goes on until <see cref="StopAsync"/>.</summary>
    public void Completed()
    {
        lock (_gate)
        {
            if (_pending is not null && !_released.IsAddingCompleted)
            {
                _released.Add(_pending);
            }

            _pending = null;
        }
    }

    /// <summary>Ends the hashing: the file being hashed is finished, the rest is left to verification.</summary>
    public async Task StopAsync()
    {
        lock (_gate)
        {
            _released.CompleteAdding();
        }

        await _stop.CancelAsync();
        await _stopped.Task;
    }

    /// <summary>
    /// The size and SHA512 read from <paramref name="relativePath"/> during the transfer, when the file at
    /// <paramref name="fullPath"/> is still that very content; false means: hash it now.
    /// </summary>
    /// <summary>
    /// The lines of the sub-Manifest <paramref name="entry"/> names, parsed during the transfer, when the file at
    /// <paramref name="fullPath"/> is still the content that was parsed and that content matches the entry's size and SHA512.
    /// </summary>
    internal bool TryGetParsed(ManifestEntry entry, string fullPath, out ManifestSet.ParsedLine[] lines)
    {
        if (_hashed.TryGetValue(entry.Path, out var file) && file.Parsed is { } parsed
            && entry.Sha512 is { } expected && file.Stamp.Size == entry.Size && file.Sha512.AsSpan().SequenceEqual(expected)
            && ContentStamp.TryGet(fullPath, out var now) && now == file.Stamp)
        {
            Interlocked.Increment(ref _reused);
            lines = parsed;
            return true;
        }

        lines = [];
        return false;
    }

    internal bool TryGet(string relativePath, string fullPath, out long size, out byte[] sha512)
    {
        if (_hashed.TryGetValue(relativePath, out var file) && ContentStamp.TryGet(fullPath, out var now) && now == file.Stamp)
        {
            Interlocked.Increment(ref _reused);
            (size, sha512) = (file.Stamp.Size, file.Sha512);
            return true;
        }

        (size, sha512) = (0, []);
        return false;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        if (_top is { } top)
        {
            // Its gpg must be done before the caller disposes the keyring (and its home) it runs with.
            try
            {
                await top;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or System.ComponentModel.Win32Exception or OperationCanceledException)
            {
            }
        }

        _stop.Dispose();
        _released.Dispose();
    }

    private void Work()
    {
        var buffer = new byte[WholeFileLimit];
        try
        {
            foreach (var path in _released.GetConsumingEnumerable(_stop.Token))
            {
                Hash(path, buffer);
                if (_released.Count == 0 && !_released.IsAddingCompleted)
                {
                    // Drained: let rsync run a few milliseconds ahead instead of waking this thread for each file it
                    // reports (a first sync reports 150,000, and each wake-up takes a core from rsync for a moment);
                    // the files taken next are then mostly past the clock tick that makes a file too fresh to read.
                    Thread.Sleep(BatchPause);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopped: verification hashes the rest.
        }
    }

    private void Hash(string relativePath, byte[] buffer)
    {
        if (!RegularFileReader.Supported)
        {
            return; // Verification reads every file itself.
        }

        if (relativePath == "Manifest" && _keyring is not null && _top is null)
        {
            // The signature is judged on the bytes verification will read; if they differ then, gpg is asked again.
            _top = CheckTopAsync(Path.Combine(Root, relativePath), _keyring);
        }

        var full = Path.Combine(Root, relativePath);
        for (var attempt = 1; attempt <= RacyAttempts && !_stop.IsCancellationRequested; attempt++)
        {
            try
            {
                var clock = DirectoryReader.CoarseNow();
                using var reader = RegularFileReader.Open(full, out _, out _);
                if (reader is null || !reader.TryStamp(out var before))
                {
                    return;
                }

                if (!before.ChangedBefore(clock))
                {
                    // Changed within this tick of the clock: a later write in the same tick would keep the ctime. Wait one.
                    Thread.Sleep(1);
                    continue;
                }

                if (Read(reader, before.Size, buffer) is { } sha512 && reader.TryStamp(out var after) && after == before)
                {
                    _hashed[relativePath] = new HashedFile(before, sha512, ParseSubManifest(relativePath, buffer, before.Size));
                }

                return;
            }
            catch (IOException)
            {
                return; // Verification reads it again and reports what it finds.
            }
        }
    }

    /// <summary>A sub-Manifest's lines (plain or gzip), from the bytes just hashed; null for anything else or data that does not decode.</summary>
    private static ManifestSet.ParsedLine[]? ParseSubManifest(string relativePath, byte[] buffer, long size)
    {
        var gzip = relativePath.EndsWith("/Manifest.gz", StringComparison.Ordinal);
        if (size > buffer.Length || !(gzip || relativePath.EndsWith("/Manifest", StringComparison.Ordinal)))
        {
            return null;
        }

        try
        {
            var lines = ManifestText.Lines(buffer.AsSpan(0, (int)size).ToArray(), gzip, MaxInflatedManifest);
            return ManifestSet.Parse(lines, UnchangedReference.Split(relativePath).Directory);
        }
        catch (Exception e) when (e is InvalidDataException or System.Text.DecoderFallbackException)
        {
            return null; // Verification reads it again and reports what it finds.
        }
    }

    private static async Task<(byte[] Bytes, SignatureCheck Check)?> CheckTopAsync(string path, OpenPgpKeyring keyring)
    {
        byte[] bytes;
        using (var reader = RegularFileReader.Open(path, out _, out _))
        {
            // Only what verification itself would read: a regular file of bounded size.
            if (reader is null || reader.Length > MaxTopManifest)
            {
                return null;
            }

            bytes = new byte[reader.Length];
            if (reader.ReadFully(bytes) != bytes.Length)
            {
                return null;
            }
        }

        return (bytes, await keyring.VerifyClearSignedAsync(bytes));
    }

    private static byte[]? Read(RegularFileReader reader, long length, byte[] buffer)
    {
        if (length <= buffer.Length)
        {
            return reader.ReadFully(buffer.AsSpan(0, (int)length)) == length ? SHA512.HashData(buffer.AsSpan(0, (int)length)) : null;
        }

        using var incremental = IncrementalHash.CreateHash(HashAlgorithmName.SHA512);
        long total = 0;
        int read;
        while ((read = reader.Read(buffer)) > 0)
        {
            incremental.AppendData(buffer, 0, read);
            total += read;
        }

        return total == length ? incremental.GetHashAndReset() : null;
    }

    private sealed record HashedFile(ContentStamp Stamp, byte[] Sha512, ManifestSet.ParsedLine[]? Parsed);
}
