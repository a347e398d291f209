using AdHocMirror.Testing;
using AdHocMirror.Testing.Trees;
using AdHocMirror.Tree.OpenPgp;

namespace AdHocMirror.Tree.Tests;

/// <summary>A small generated tree signed by the shared test key, in a temp dir, with a keyring holding that key.</summary>
internal sealed class SignedTree : IAsyncDisposable
{
    private SignedTree(TempDir temp, string path, TestSigningKey key, OpenPgpKeyring keyring, GentooTreeOptions options)
    {
        Temp = temp;
        Path = path;
        Key = key;
        Keyring = keyring;
        Options = options;
    }

    public TempDir Temp { get; }

    public string Path { get; }

    public TestSigningKey Key { get; }

    public OpenPgpKeyring Keyring { get; }

    public GentooTreeOptions Options { get; }

    public static async Task<SignedTree> CreateAsync(int files = 60, int seed = 1)
    {
        var temp = new TempDir("ahm-tree");
        var key = await TestSigningKey.SharedAsync();
        var options = new GentooTreeOptions { Files = files, Seed = seed };
        var path = temp.Combine("repo");
        await GentooTree.CreateAsync(path, options, key);
        return new SignedTree(temp, path, key, await OpenPgpKeyring.OpenAsync(key.PublicKeyFile), options);
    }

    public string File(string relative) => System.IO.Path.Combine(Path, relative);

    /// <summary>A hard-link clone of the tree beside it (as the spare is, and as rsync --link-dest stages): every file the same inode.</summary>
    public async Task<string> HardLinkCloneAsync(string name = "staging")
    {
        var clone = Temp.Combine(name);
        (await ExternalProcess.RunAsync("cp", ["-al", Path, clone])).EnsureSuccess("cp -al");
        return clone;
    }

    public async ValueTask DisposeAsync()
    {
        await Keyring.DisposeAsync();
        Temp.Dispose();
    }
}
