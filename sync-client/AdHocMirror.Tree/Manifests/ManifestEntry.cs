using System.Globalization;
using System.Text;

namespace AdHocMirror.Tree.Manifests;

/// <summary>GLEP 74 tags (and the deprecated GLEP 44 ones) this verifier understands.</summary>
internal enum ManifestTag
{
    Timestamp,
    Manifest,
    Data,
    Dist,
    Ignore,
    Ebuild,
    Aux,
    Misc,
}

/// <summary>One parsed line of a Manifest. <see cref="Path"/> is relative to the tree root.</summary>
internal sealed record ManifestEntry(ManifestTag Tag, string Path, long Size, byte[]? Sha512, string? Value)
{
    /// <summary>Parses one line; <paramref name="directory"/> is the Manifest's directory relative to the root ("" for the root).</summary>
    public static ManifestEntry? Parse(string line, string directory, out string? error)
    {
        // Spans, not Split: a full tree has ~200,000 lines, each with two 128-digit hashes that need no string.
        error = null;
        Span<Range> ranges = stackalloc Range[40];
        var text = line.AsSpan();
        var count = text.Split(ranges, ' ', StringSplitOptions.RemoveEmptyEntries);
        if (count == 0)
        {
            return null;
        }

        if (count == ranges.Length)
        {
            error = "too many fields";
            return null;
        }

        var fields = ranges[..count];
        var first = text[fields[0]];
        ManifestTag tag;
        switch (first)
        {
            case "TIMESTAMP":
                if (count != 2)
                {
                    error = "TIMESTAMP takes one value";
                    return null;
                }

                return new ManifestEntry(ManifestTag.Timestamp, string.Empty, 0, null, text[fields[1]].ToString());
            case "IGNORE":
                if (count != 2 || !TryPath(text[fields[1]].ToString(), directory, out var ignored, out error))
                {
                    error ??= "IGNORE takes one path";
                    return null;
                }

                return new ManifestEntry(ManifestTag.Ignore, ignored, 0, null, null);
            case "MANIFEST": tag = ManifestTag.Manifest; break;
            case "DATA": tag = ManifestTag.Data; break;
            case "DIST": tag = ManifestTag.Dist; break;
            case "EBUILD": tag = ManifestTag.Ebuild; break;
            case "AUX": tag = ManifestTag.Aux; break;
            case "MISC": tag = ManifestTag.Misc; break;
            default:
                error = $"unknown Manifest tag '{first}'";
                return null;
        }

        if (count < 3 || (count - 3) % 2 != 0)
        {
            error = $"malformed {first} entry";
            return null;
        }

        if (!long.TryParse(text[fields[2]], NumberStyles.None, CultureInfo.InvariantCulture, out var size))
        {
            error = $"bad size '{text[fields[2]]}'";
            return null;
        }

        byte[]? sha512 = null;
        for (var i = 3; i + 1 < count; i += 2)
        {
            if (text[fields[i]] is "SHA512")
            {
                var hex = text[fields[i + 1]];
                sha512 = hex.Length == 128 ? new byte[64] : null;
                if (sha512 is null || Convert.FromHexString(hex, sha512, out _, out var written) != System.Buffers.OperationStatus.Done || written != 64)
                {
                    error = "bad SHA512 value";
                    return null;
                }
            }
        }

        var name = text[fields[1]].ToString();
        if (tag == ManifestTag.Dist)
        {
            // Distfiles live outside the tree; the tree verifier has nothing to check for them.
            return new ManifestEntry(tag, name, size, sha512, null);
        }

        var raw = tag == ManifestTag.Aux ? "files/" + name : name;
        if (!TryPath(raw, directory, out var path, out error))
        {
            return null;
        }

        return new ManifestEntry(tag, path, size, sha512, null);
    }

    private static bool TryPath(string raw, string directory, out string path, out string? error)
    {
        path = string.Empty;
        if (!TryUnescape(raw, out var unescaped))
        {
            error = $"bad escape in path '{raw}'";
            return false;
        }

        if (unescaped.StartsWith('/') || !Canonical(unescaped))
        {
            error = $"path '{raw}' leaves its directory or is not canonical";
            return false;
        }

        error = null;
        path = directory.Length == 0 ? unescaped : directory + "/" + unescaped;
        return true;
    }

    private static bool Canonical(string path)
    {
        foreach (var part in path.AsSpan().Split('/'))
        {
            if (path.AsSpan(part) is "" or "." or "..")
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>GLEP 74 path escapes: <c>\xHH</c>, <c>\uHHHH</c>, <c>\UHHHHHHHH</c> (and <c>\\</c>).</summary>
    private static bool TryUnescape(string raw, out string value)
    {
        if (!raw.Contains('\\', StringComparison.Ordinal))
        {
            value = raw;
            return true;
        }

        var builder = new StringBuilder(raw.Length);
        for (var i = 0; i < raw.Length; i++)
        {
            if (raw[i] != '\\')
            {
                builder.Append(raw[i]);
                continue;
            }

            if (i + 1 >= raw.Length)
            {
                value = raw;
                return false;
            }

            var digits = raw[i + 1] switch { 'x' => 2, 'u' => 4, 'U' => 8, '\\' => 0, _ => -1 };
            if (digits < 0 || i + 2 + digits > raw.Length)
            {
                value = raw;
                return false;
            }

            if (digits == 0)
            {
                builder.Append('\\');
                i++;
                continue;
            }

            if (!int.TryParse(raw.AsSpan(i + 2, digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var code)
                || code > 0x10FFFF)
            {
                value = raw;
                return false;
            }

            builder.Append(char.ConvertFromUtf32(code));
            i += 1 + digits;
        }

        value = builder.ToString();
        return true;
    }
}
