using System.Text;

namespace AdHocMirror.Tree.OpenPgp;

/// <summary>
/// The signed body of an OpenPGP cleartext-signed document (RFC 4880 §7). Strict: the document must be exactly one
/// signed block with nothing but whitespace around it, so that the text we act on is the text gpg checked.
/// </summary>
public static class ClearSignedText
{
    private const string Begin = "-----BEGIN PGP SIGNED MESSAGE-----";
    private const string SignatureBegin = "-----BEGIN PGP SIGNATURE-----";
    private const string SignatureEnd = "-----END PGP SIGNATURE-----";

    /// <summary>Returns the body lines (dash-escaping removed), or null with a reason when the document is not strictly one signed block.</summary>
    public static IReadOnlyList<string>? TryGetBody(ReadOnlySpan<byte> document, out string? error)
    {
        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(document);
        }
        catch (DecoderFallbackException)
        {
            error = "not valid UTF-8";
            return null;
        }

        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        var i = 0;
        while (i < lines.Length && lines[i].Trim().Length == 0)
        {
            i++;
        }

        if (i >= lines.Length || lines[i].TrimEnd() != Begin)
        {
            error = "not an OpenPGP signed message (unsigned Manifest?)";
            return null;
        }

        // Armor headers ("Hash: SHA256") up to the first empty line.
        i++;
        while (i < lines.Length && lines[i].TrimEnd().Length != 0)
        {
            if (!lines[i].StartsWith("Hash:", StringComparison.Ordinal))
            {
                error = $"unexpected armor header '{lines[i]}'";
                return null;
            }

            i++;
        }

        i++;
        var body = new List<string>();
        for (; i < lines.Length; i++)
        {
            var line = lines[i];
            if (line.TrimEnd() == SignatureBegin)
            {
                break;
            }

            if (line.StartsWith('-'))
            {
                if (!line.StartsWith("- ", StringComparison.Ordinal))
                {
                    error = $"unescaped dash line '{line}' in signed text";
                    return null;
                }

                line = line[2..];
            }

            body.Add(line);
        }

        if (i >= lines.Length)
        {
            error = "signature block missing";
            return null;
        }

        for (i++; i < lines.Length && lines[i].TrimEnd() != SignatureEnd; i++)
        {
        }

        if (i >= lines.Length)
        {
            error = "signature block not terminated";
            return null;
        }

        for (i++; i < lines.Length; i++)
        {
            if (lines[i].Trim().Length != 0)
            {
                error = "text after the signature block";
                return null;
            }
        }

        error = null;
        return body;
    }
}
