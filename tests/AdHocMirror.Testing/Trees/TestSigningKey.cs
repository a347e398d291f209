using System.Text;

namespace AdHocMirror.Testing.Trees;

/// <summary>
/// A throwaway ed25519 OpenPGP key (no passphrase) in its own GNUPGHOME, made with <c>gpg --quick-gen-key</c>, that signs
/// test trees and commits as the distribution's release key would. <see cref="SharedAsync"/> makes one per test run.
/// </summary>
public sealed class TestSigningKey : IDisposable
{
    private static readonly Lazy<Task<TestSigningKey>> Shared = new(() => CreateAsync("AHM Test Release Key"));

    private TestSigningKey(string home, string fingerprint, string publicKeyFile)
    {
        Home = home;
        Fingerprint = fingerprint;
        PublicKeyFile = publicKeyFile;
    }

    /// <summary>GNUPGHOME holding the secret key.</summary>
    public string Home { get; }

    /// <summary>Primary key fingerprint, upper-case hex.</summary>
    public string Fingerprint { get; }

    /// <summary>The armored public key: the "keyring file" verifiers are configured with.</summary>
    public string PublicKeyFile { get; }

    public IDictionary<string, string> Environment => new Dictionary<string, string> { ["GNUPGHOME"] = Home, ["LC_ALL"] = "C" };

    /// <summary>The key shared by everything in this process (made once).</summary>
    public static Task<TestSigningKey> SharedAsync() => Shared.Value;

    public static async Task<TestSigningKey> CreateAsync(string name)
    {
        var home = Directory.CreateTempSubdirectory("ahm-key-").FullName;
        var environment = new Dictionary<string, string> { ["GNUPGHOME"] = home, ["LC_ALL"] = "C" };
        (await ExternalProcess.RunAsync("gpg", ["--batch", "--passphrase", "", "--quick-gen-key", $"{name} <test@example.invalid>", "ed25519", "sign", "never"], environment: environment))
            .EnsureSuccess("gpg --quick-gen-key");
        var list = (await ExternalProcess.RunAsync("gpg", ["--batch", "--with-colons", "--fingerprint", "--list-secret-keys"], environment: environment)).EnsureSuccess("gpg --list-secret-keys");
        var fingerprint = list.Stdout.Split('\n').First(l => l.StartsWith("fpr:", StringComparison.Ordinal)).Split(':')[9];
        var publicKeyFile = Path.Combine(home, "public.asc");
        var export = (await ExternalProcess.RunAsync("gpg", ["--batch", "--armor", "--export", fingerprint], environment: environment)).EnsureSuccess("gpg --export");
        await File.WriteAllTextAsync(publicKeyFile, export.Stdout);
        var key = new TestSigningKey(home, fingerprint, publicKeyFile);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => key.Dispose();
        // Its gpg-agent lives as long as the key; the run ends it before looking for leftover processes.
        Leftovers.TestRun.AtEnd(key.StopAgent);
        return key;
    }

    /// <summary>Cleartext-signs <paramref name="text"/> (gpg --clearsign) and returns the signed document.</summary>
    public async Task<string> ClearSignAsync(string text)
    {
        var result = await ExternalProcess.RunAsync("gpg", ["--batch", "--yes", "--local-user", Fingerprint, "--digest-algo", "SHA512", "--clearsign"], environment: Environment, stdin: text);
        return result.EnsureSuccess("gpg --clearsign").Stdout;
    }

    /// <summary>Ends the gpg-agent of this key's home (gpg starts one again when the key is used).</summary>
    public void StopAgent()
    {
        try
        {
            using var kill = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("gpgconf", ["--kill", "all"])
            {
                Environment = { ["GNUPGHOME"] = Home },
                UseShellExecute = false,
            });
            kill?.WaitForExit(5000);
        }
        catch (System.ComponentModel.Win32Exception)
        {
        }
    }

    public void Dispose()
    {
        try
        {
            using var kill = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("gpgconf", ["--kill", "all"])
            {
                Environment = { ["GNUPGHOME"] = Home },
                UseShellExecute = false,
            });
            kill?.WaitForExit(5000);
            Directory.Delete(Home, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.ComponentModel.Win32Exception)
        {
        }
    }

    public override string ToString() => new StringBuilder("test key ").Append(Fingerprint).ToString();
}
