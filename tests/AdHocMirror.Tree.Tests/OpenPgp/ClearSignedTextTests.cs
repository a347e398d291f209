using System.Text;
using AdHocMirror.Tree.OpenPgp;

namespace AdHocMirror.Tree.Tests.OpenPgp;

public sealed class ClearSignedTextTests
{
    private const string Signature = "-----BEGIN PGP SIGNATURE-----\n\nabc\n-----END PGP SIGNATURE-----\n";

    [Fact]
    public void Returns_the_body_with_dash_escapes_removed()
    {
        var body = ClearSignedText.TryGetBody(Encoding.UTF8.GetBytes("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\nDATA a 1\n- -dashed\n" + Signature), out var error);
        Assert.Null(error);
        Assert.Equal(["DATA a 1", "-dashed"], body!);
    }

    [Theory]
    [InlineData("DATA a 1\n")]
    [InlineData("DATA injected 1\n-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\nDATA a 1\n" + Signature)]
    [InlineData("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\nDATA a 1\n" + Signature + "DATA injected 1\n")]
    [InlineData("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\nDATA a 1\n")]
    public void Refuses_unsigned_or_padded_documents(string text)
    {
        Assert.Null(ClearSignedText.TryGetBody(Encoding.UTF8.GetBytes(text), out var error));
        Assert.NotNull(error);
    }
}
