using AdHocMirror.Tree.Processes;

namespace AdHocMirror.Tree.OpenPgp;

/// <summary>
/// A throwaway GnuPG home holding only the configured keyring (e.g. /usr/share/openpgp-keys/gentoo-release.asc),
/// used offline to check signatures with the real gpg. A signature counts only if made by one of these keys.
/// Dispose to remove the home.
/// </summary>
public sealed class OpenPgpKeyring : IAsyncDisposable
{
    private readonly IProcessRunner _runner;
    private readonly HashSet<string> _fingerprints;

    private OpenPgpKeyring(string home, HashSet<string> fingerprints, IProcessRunner runner, string gpg)
    {
        Home = home;
        _fingerprints = fingerprints;
        _runner = runner;
        GpgProgram = gpg;
    }

    /// <summary>The throwaway GNUPGHOME.</summary>
    public string Home { get; }

    /// <summary>The gpg program used.</summary>
    public string GpgProgram { get; }

    /// <summary>Primary key fingerprints (upper-case hex) of the keyring.</summary>
    public IReadOnlySet<string> Fingerprints => _fingerprints;

    /// <summary>Environment that points gpg (and git's gpg) at this home.</summary>
    public IReadOnlyDictionary<string, string?> Environment => new Dictionary<string, string?>
    {
        ["GNUPGHOME"] = Home,
        ["GPG_AGENT_INFO"] = null,
        ["LC_ALL"] = "C",
    };

    /// <summary>Imports <paramref name="keyringFile"/> (armored or binary) into a new throwaway home.</summary>
    public static async Task<OpenPgpKeyring> OpenAsync(string keyringFile, IProcessRunner? runner = null, string gpg = "gpg", CancellationToken cancellationToken = default)
    {
        runner ??= ProcessRunner.Instance;
        if (!File.Exists(keyringFile))
        {
            throw new FileNotFoundException($"OpenPGP keyring {keyringFile} does not exist", keyringFile);
        }

        // Short path under /tmp: gpg puts sockets in the home when it needs them, and socket paths are short. The name
        // carries this process's id, so that a later run can remove the home of one that was killed before it could.
        RemoveAbandonedHomes(Path.GetTempPath());
        var home = Directory.CreateTempSubdirectory($"{HomePrefix}{System.Environment.ProcessId}-").FullName;
        try
        {
            // no-autostart: importing and checking public keys needs no gpg-agent, and one started here would outlive the
            // home whenever this process cannot stop it (killed, or git's gpg starting one after we are done).
            await File.WriteAllTextAsync(home + "/gpg.conf", "no-autostart\nno-auto-key-retrieve\nno-auto-key-locate\ntrust-model always\nno-greeting\n", cancellationToken);
            var keyring = new OpenPgpKeyring(home, [], runner, gpg);
            // One gpg run (every run of ahm-sync pays for it before its transfer): the home is new, so the keys the import
            // shows are all the keys it holds.
            var import = await runner.RunAsync(keyring.Gpg(["--with-colons", "--import-options", "import-show", "--import", Path.GetFullPath(keyringFile)]), cancellationToken);
            if (import.ExitCode != 0)
            {
                throw new InvalidOperationException($"gpg could not import {keyringFile}: {import.StandardError.Trim()}");
            }

            var lines = import.StandardOutput.Split('\n');
            for (var i = 0; i < lines.Length; i++)
            {
                if (lines[i].StartsWith("pub:", StringComparison.Ordinal) && i + 1 < lines.Length && lines[i + 1].StartsWith("fpr:", StringComparison.Ordinal))
                {
                    keyring._fingerprints.Add(lines[i + 1].Split(':')[9].ToUpperInvariant());
                }
            }

            if (keyring._fingerprints.Count == 0)
            {
                throw new InvalidOperationException($"OpenPGP keyring {keyringFile} holds no public keys");
            }

            return keyring;
        }
        catch
        {
            TryDelete(home);
            throw;
        }
    }

    /// <summary>Checks a cleartext-signed document given as bytes (the exact bytes the caller will act on).</summary>
    public async Task<SignatureCheck> VerifyClearSignedAsync(byte[] document, CancellationToken cancellationToken = default)
    {
        var result = await _runner.RunAsync(Gpg(["--status-fd", "1", "--verify", "-"]) with { StandardInput = document }, cancellationToken);
        return SignatureCheck.FromGpgStatus(result.StandardOutput, _fingerprints);
    }

    internal ProcessSpec Gpg(IReadOnlyList<string> arguments) =>
        new(GpgProgram, ["--homedir", Home, "--batch", "--no-tty", .. arguments])
        {
            Environment = Environment,
            Timeout = TimeSpan.FromMinutes(1),
        };

    public async ValueTask DisposeAsync()
    {
        try
        {
            // Stops any agent or dirmngr gpg may have started in the home.
            await _runner.RunAsync(new ProcessSpec("gpgconf", ["--kill", "all"]) { Environment = Environment, Timeout = TimeSpan.FromSeconds(10) });
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException)
        {
        }

        TryDelete(Home);
    }

    private const string HomePrefix = "ahm-gpg-";

    /// <summary>
    /// Removes the homes under <paramref name="temp"/> whose process is gone (killed: SIGKILL leaves no chance to clean
    /// up). A home whose process id is in use again is left for a later run; removing a home only ever costs a key import.
    /// </summary>
    internal static void RemoveAbandonedHomes(string temp)
    {
        if (!Directory.Exists($"/proc/{System.Environment.ProcessId}"))
        {
            return; // no /proc to tell a live process from a gone one
        }

        IEnumerable<string> homes;
        try
        {
            homes = Directory.EnumerateDirectories(temp, HomePrefix + "*").ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return;
        }

        foreach (var home in homes)
        {
            var rest = Path.GetFileName(home).AsSpan(HomePrefix.Length);
            var dash = rest.IndexOf('-');
            if (dash > 0 && int.TryParse(rest[..dash], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var pid)
                && pid != System.Environment.ProcessId && !Directory.Exists($"/proc/{pid}"))
            {
                TryDelete(home);
            }
        }
    }

    private static void TryDelete(string dir)
    {
        try
        {
            Directory.Delete(dir, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
