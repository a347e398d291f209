namespace AdHocMirror.Testing.Trees;

/// <summary>
/// The gemato-signed tree with directory and file symlinks (shared/fixtures, glep74-gemato-dirlinks), copied with
/// <c>cp -a</c> into a writable temporary directory. Where the fixture was copied without symlinks (a checkout with
/// core.symlinks off leaves each link as a small file holding its target), the three links it documents are made again.
/// </summary>
public static class DirlinksFixture
{
    public const string Name = "glep74-gemato-dirlinks";

    /// <summary>The signed version: the TIMESTAMP of the top-level Manifest.</summary>
    public const string Timestamp = "2026-12-06T22:56:03Z";

    /// <summary>The links in dev-lang/foo/files, by name, with their targets (the fixture's README).</summary>
    public static IReadOnlyDictionary<string, string> Links { get; } = new Dictionary<string, string>
    {
        ["foo-1.3"] = "foo-1.2",
        ["foo-1.4"] = "foo-1.3",
        ["bar.patch"] = "foo-1.2/a.patch",
    };

    public const string Files = "dev-lang/foo/files";

    public static string File(params string[] parts) => Path.Combine([Conformance.Directory!, Name, .. parts]);

    /// <summary>Copies the tree to <paramref name="destination"/> (which must not exist) and returns it.</summary>
    public static async Task<string> CopyAsync(string destination)
    {
        (await ExternalProcess.RunAsync("cp", ["-a", "--", File("tree"), destination])).EnsureSuccess("cp -a");
        // The fixtures are read-only; the copy must be writable to tamper with it and to be removed.
        (await ExternalProcess.RunAsync("chmod", ["-R", "u+w", "--", destination])).EnsureSuccess("chmod");
        foreach (var (name, target) in Links)
        {
            var path = Path.Combine(destination, Files, name);
            var info = new FileInfo(path);
            if (info.LinkTarget is null)
            {
                Assert(System.IO.File.ReadAllText(path).Trim() == target, $"{path} is neither the symlink nor its stand-in");
                System.IO.File.Delete(path);
                System.IO.File.CreateSymbolicLink(path, target);
            }
        }

        return destination;
    }

    private static void Assert(bool condition, string message)
    {
        if (!condition)
        {
            throw new InvalidOperationException(message);
        }
    }
}
