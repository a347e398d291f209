using System.Collections.Concurrent;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;

namespace AdHocMirror.Testing.Trees;

/// <summary>
/// Writes the GLEP 74 Manifest tree of a directory the way Gentoo's infrastructure does: gzipped sub-Manifests in every
/// top-level directory, every category/package directory and every metadata/md5-cache category; DATA entries with size
/// and SHA512; IGNORE for distfiles/local/lost+found/packages and the unauthenticated metadata/timestamp* files; and a
/// top-level Manifest with TIMESTAMP, cleartext-signed with gpg.
/// </summary>
public static class ManifestWriter
{
    private static readonly string[] TopIgnores = ["distfiles", "local", "lost+found", "packages"];
    private static readonly string[] MetadataIgnores = ["timestamp", "timestamp.chk", "timestamp.commit", "timestamp.x"];

    public static async Task WriteAsync(string directory, DateTimeOffset timestamp, TestSigningKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var root = Path.GetFullPath(directory);
        foreach (var stale in Directory.EnumerateFiles(root, "Manifest*", SearchOption.AllDirectories))
        {
            File.Delete(stale);
        }

        var files = GentooTree.ListContent(root)
            .Where(p => p is not ("metadata/timestamp" or "metadata/timestamp.chk" or "metadata/timestamp.commit" or "metadata/timestamp.x"))
            .ToList();
        var hashed = new ConcurrentDictionary<string, string>(StringComparer.Ordinal);
        Parallel.ForEach(files, path => hashed[path] = Describe(File.ReadAllBytes(Path.Combine(root, path))));

        // Manifest directories, deepest first; each file belongs to its nearest one.
        var manifestDirs = files.SelectMany(Ancestors).Where(IsManifestDirectory).Distinct(StringComparer.Ordinal)
            .OrderByDescending(d => d.Count(c => c == '/')).ThenBy(d => d, StringComparer.Ordinal).ToList();
        var manifestSet = new HashSet<string>(manifestDirs, StringComparer.Ordinal) { string.Empty };
        var lines = new Dictionary<string, List<string>>(StringComparer.Ordinal) { [string.Empty] = [] };
        foreach (var dir in manifestDirs)
        {
            lines[dir] = [];
        }

        string Owner(string path)
        {
            foreach (var ancestor in Ancestors(path))
            {
                if (manifestSet.Contains(ancestor))
                {
                    return ancestor;
                }
            }

            return string.Empty;
        }

        string Relative(string owner, string path) => owner.Length == 0 ? path : path[(owner.Length + 1)..];

        foreach (var path in files)
        {
            var owner = Owner(path);
            lines[owner].Add($"DATA {Relative(owner, path)} {hashed[path]}");
        }

        foreach (var ignore in TopIgnores)
        {
            lines[string.Empty].Add($"IGNORE {ignore}");
        }

        if (lines.TryGetValue("metadata", out var metadata))
        {
            metadata.AddRange(MetadataIgnores.Select(i => $"IGNORE {i}"));
        }

        foreach (var dir in manifestDirs)
        {
            var body = string.Join('\n', lines[dir].Order(StringComparer.Ordinal)) + "\n";
            var compressed = Gzip(Encoding.UTF8.GetBytes(body));
            var path = dir + "/Manifest.gz";
            await File.WriteAllBytesAsync(Path.Combine(root, path), compressed);
            File.SetLastWriteTimeUtc(Path.Combine(root, path), timestamp.UtcDateTime);
            var owner = Owner(dir);
            lines[owner].Add($"MANIFEST {Relative(owner, path)} {Describe(compressed)}");
        }

        var top = string.Join('\n', lines[string.Empty].Order(StringComparer.Ordinal)) + $"\nTIMESTAMP {timestamp.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'}\n";
        await File.WriteAllTextAsync(Path.Combine(root, "Manifest"), await key.ClearSignAsync(top));
        File.SetLastWriteTimeUtc(Path.Combine(root, "Manifest"), timestamp.UtcDateTime);
    }

    private static bool IsManifestDirectory(string dir)
    {
        var depth = dir.Count(c => c == '/');
        return depth == 0
            || (depth == 1 && !dir.EndsWith("/files", StringComparison.Ordinal))
            || (depth == 2 && dir.StartsWith("metadata/md5-cache/", StringComparison.Ordinal));
    }

    /// <summary>Directories containing <paramref name="path"/>, nearest first (not the root).</summary>
    private static IEnumerable<string> Ancestors(string path)
    {
        for (var slash = path.LastIndexOf('/'); slash > 0; slash = path.LastIndexOf('/', slash - 1))
        {
            yield return path[..slash];
        }
    }

    private static string Describe(byte[] data) => $"{data.Length} SHA512 {Convert.ToHexStringLower(SHA512.HashData(data))}";

    private static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true))
        {
            gzip.Write(data);
        }

        return output.ToArray();
    }
}
