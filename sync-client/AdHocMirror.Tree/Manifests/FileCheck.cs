using System.Security.Cryptography;
using AdHocMirror.Tree.Native;

namespace AdHocMirror.Tree.Manifests;

/// <summary>Judges one file against its Manifest entry: its size and SHA512, read now or while the tree arrived.</summary>
internal static class FileCheck
{
    private const int WholeFileLimit = 1 << 20;
    [ThreadStatic] private static byte[]? t_buffer;

    public static TreeProblem? Check(string full, ManifestEntry entry)
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
    public static TreeProblem? Judge(ManifestEntry entry, long size, byte[] sha512) =>
        size != entry.Size ? new TreeProblem(entry.Path, TreeProblemKind.SizeMismatch, $"size {size}, Manifest says {entry.Size}")
        : sha512.AsSpan().SequenceEqual(entry.Sha512) ? null
        : new TreeProblem(entry.Path, TreeProblemKind.HashMismatch, "SHA512 differs from the Manifest");
}
