using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace AdHocMirror.Tree.Manifests;

/// <summary>
/// A Manifest file's bytes as lines: gunzipped into a pooled buffer (sized from the gzip trailer) and decoded line by
/// line, so that the only strings made are the lines themselves. An incremental sync reads a few hundred Manifests of
/// ~45 KB each in both trees; a whole-text string, its split and the growing streams were most of verification's garbage.
/// </summary>
internal static class ManifestText
{
    private const int MaxInitialBuffer = 64 << 20;
    private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The lines (split at '\n', as <c>string.Split</c> would); throws InvalidDataException or DecoderFallbackException for bad data.</summary>
    /// <param name="maxInflated">Refuses (InvalidDataException) gzip data that inflates beyond this: for bytes not yet checked against a signed entry.</param>
    public static string[] Lines(byte[] data, bool gzip, int maxInflated = int.MaxValue)
    {
        if (!gzip)
        {
            return Split(data);
        }

        // ISIZE, the last four bytes of a gzip member, is the uncompressed length (mod 2^32): a hint, never trusted.
        var hint = data.Length >= 18 ? BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(data.Length - 4)) : 0;
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Clamp(hint + 1L, 4096L, Math.Min(MaxInitialBuffer, maxInflated + 1L)));
        try
        {
            using var inflate = new GZipStream(new MemoryStream(data, writable: false), CompressionMode.Decompress);
            var used = 0;
            int count;
            while ((count = inflate.Read(buffer, used, buffer.Length - used)) > 0)
            {
                used += count;
                if (used > maxInflated)
                {
                    throw new InvalidDataException($"inflates beyond {maxInflated} bytes");
                }

                if (used == buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent(checked(buffer.Length * 2));
                    buffer.AsSpan(0, used).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }
            }

            return Split(buffer.AsSpan(0, used));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    // '\n' is never part of a multi-byte UTF-8 sequence, so decoding line by line accepts and rejects what decoding the whole would.
    private static string[] Split(ReadOnlySpan<byte> text)
    {
        var lines = new string[text.Count((byte)'\n') + 1];
        for (var i = 0; i < lines.Length; i++)
        {
            var end = text.IndexOf((byte)'\n');
            lines[i] = Strict.GetString(end < 0 ? text : text[..end]);
            text = end < 0 ? default : text[(end + 1)..];
        }

        return lines;
    }
}
