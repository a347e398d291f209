namespace AdHocMirror.Tree.OpenPgp;

/// <summary>
/// What gpg said about a signature, judged against the keyring: good only when gpg reported both GOODSIG and
/// VALIDSIG, the key is in the configured keyring, and nothing bad (BADSIG, ERRSIG, expired or revoked key or
/// signature, missing key) was reported.
/// </summary>
public sealed record SignatureCheck(bool IsGood, string? PrimaryKeyFingerprint, string Detail)
{
    private const string Prefix = "[GNUPG:] ";

    private static readonly HashSet<string> Refusals = new(StringComparer.Ordinal)
    {
        "BADSIG", "ERRSIG", "EXPSIG", "EXPKEYSIG", "REVKEYSIG", "NO_PUBKEY", "KEYREVOKED", "FAILURE",
    };

    /// <summary>Judges gpg <c>--status-fd</c> output (other lines are ignored).</summary>
    public static SignatureCheck FromGpgStatus(string status, IReadOnlySet<string> keyringFingerprints)
    {
        ArgumentNullException.ThrowIfNull(status);
        ArgumentNullException.ThrowIfNull(keyringFingerprints);
        var goodSignatures = 0;
        var primaries = new List<string>();
        foreach (var raw in status.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (!line.StartsWith(Prefix, StringComparison.Ordinal))
            {
                continue;
            }

            var fields = line[Prefix.Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length == 0)
            {
                continue;
            }

            var keyword = fields[0];
            if (Refusals.Contains(keyword))
            {
                return new SignatureCheck(false, null, $"gpg reported {line[Prefix.Length..]}");
            }

            if (keyword == "GOODSIG")
            {
                goodSignatures++;
            }
            else if (keyword == "VALIDSIG" && fields.Length >= 2)
            {
                // The primary key's fingerprint is the last field (since GnuPG 1.4.x); older output has only the signing key.
                primaries.Add((fields.Length >= 11 ? fields[10] : fields[1]).ToUpperInvariant());
            }
        }

        if (goodSignatures == 0 || primaries.Count == 0)
        {
            return new SignatureCheck(false, null, "no good signature");
        }

        if (goodSignatures != primaries.Count)
        {
            return new SignatureCheck(false, null, "gpg reported inconsistent signature status");
        }

        foreach (var primary in primaries)
        {
            if (!keyringFingerprints.Contains(primary))
            {
                return new SignatureCheck(false, primary, $"signed by {primary}, which is not in the configured keyring");
            }
        }

        return new SignatureCheck(true, primaries[0], $"good signature by {primaries[0]}");
    }
}
