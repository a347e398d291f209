using AdHocMirror.Tree.OpenPgp;

namespace AdHocMirror.Tree.Tests.OpenPgp;

public sealed class SignatureCheckTests
{
    private const string Fpr = "4BFB9A497668C568919CAA178E1464D934E91CE0";
    private static readonly HashSet<string> Keyring = [Fpr];

    private static string Good(string primary = Fpr) =>
        $"[GNUPG:] NEWSIG\n[GNUPG:] GOODSIG 8E1464D934E91CE0 Test\n[GNUPG:] VALIDSIG {Fpr} 2026-11-21 1795266251 0 4 0 22 8 01 {primary}\n[GNUPG:] TRUST_UNDEFINED 0 pgp\n";

    [Fact]
    public void Good_signature_by_a_keyring_key_is_accepted()
    {
        var check = SignatureCheck.FromGpgStatus(Good(), Keyring);
        Assert.True(check.IsGood, check.Detail);
        Assert.Equal(Fpr, check.PrimaryKeyFingerprint);
    }

    [Fact]
    public void Good_signature_by_another_key_is_refused()
    {
        var check = SignatureCheck.FromGpgStatus(Good("0000000000000000000000000000000000000000"), Keyring);
        Assert.False(check.IsGood);
        Assert.Contains("not in the configured keyring", check.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[GNUPG:] BADSIG 8E1464D934E91CE0 Test\n")]
    [InlineData("[GNUPG:] ERRSIG 8E1464D934E91CE0 22 8 01 1795266251 9 -\n[GNUPG:] NO_PUBKEY 8E1464D934E91CE0\n")]
    [InlineData("[GNUPG:] EXPKEYSIG 8E1464D934E91CE0 Test\n")]
    [InlineData("[GNUPG:] REVKEYSIG 8E1464D934E91CE0 Test\n")]
    [InlineData("")]
    [InlineData("gpg: Good signature from \"Test\"\n")]
    public void Anything_but_a_clean_good_signature_is_refused(string extra)
    {
        var status = extra.Length == 0 || !extra.StartsWith("[GNUPG:]", StringComparison.Ordinal) ? extra : Good() + extra;
        Assert.False(SignatureCheck.FromGpgStatus(status, Keyring).IsGood);
    }
}
