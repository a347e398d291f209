using AdHocMirror.Testing;
using AdHocMirror.Testing.Trees;
using AdHocMirror.Tree.OpenPgp;

namespace AdHocMirror.Tree.Tests.OpenPgp;

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class OpenPgpKeyringTests
{
    [Fact]
    public async Task Checking_signatures_starts_no_gpg_agent_that_could_outlive_the_throwaway_home()
    {
        var key = await TestSigningKey.SharedAsync();
        using var temp = new TempDir("ahm-keyring");
        var document = temp.Combine("Manifest");
        await File.WriteAllTextAsync(document, "TIMESTAMP 2026-11-21T00:45:01Z\n");
        (await ExternalProcess.RunAsync("gpg", ["--batch", "--yes", "--clearsign", "--output", document + ".asc", document], environment: key.Environment)).EnsureSuccess("gpg --clearsign");

        string home;
        await using (var keyring = await OpenPgpKeyring.OpenAsync(key.PublicKeyFile))
        {
            home = keyring.Home;
            var check = await keyring.VerifyClearSignedAsync(await File.ReadAllBytesAsync(document + ".asc"));
            Assert.True(check.IsGood, check.Detail);
            Assert.Empty(ProcessTable.Mentioning(home));
        }

        Assert.False(Directory.Exists(home));
    }
}
