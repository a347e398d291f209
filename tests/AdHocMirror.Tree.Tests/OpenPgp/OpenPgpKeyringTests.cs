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

    [Fact]
    public async Task A_home_left_by_a_process_that_is_gone_is_removed_and_no_other()
    {
        using var temp = new TempDir("ahm-keyring");
        using var ended = System.Diagnostics.Process.Start("true");
        await ended.WaitForExitAsync();
        var abandoned = Directory.CreateDirectory(temp.Combine($"ahm-gpg-{ended.Id}-Ab12Cd")).FullName;
        File.WriteAllText(Path.Combine(abandoned, "pubring.kbx"), "keys");
        var live = Directory.CreateDirectory(temp.Combine("ahm-gpg-1-Ef34Gh")).FullName;
        var ours = Directory.CreateDirectory(temp.Combine($"ahm-gpg-{Environment.ProcessId}-Ij56Kl")).FullName;
        var unnamed = Directory.CreateDirectory(temp.Combine("ahm-gpg-Mn78Op")).FullName;

        OpenPgpKeyring.RemoveAbandonedHomes(temp.Path);

        Assert.False(Directory.Exists(abandoned));
        Assert.True(Directory.Exists(live));
        Assert.True(Directory.Exists(ours));
        Assert.True(Directory.Exists(unnamed));
    }

    [Fact]
    public async Task The_home_is_named_after_the_process_that_made_it()
    {
        var key = await TestSigningKey.SharedAsync();
        await using var keyring = await OpenPgpKeyring.OpenAsync(key.PublicKeyFile);
        Assert.StartsWith($"ahm-gpg-{Environment.ProcessId}-", Path.GetFileName(keyring.Home), StringComparison.Ordinal);
    }
}
