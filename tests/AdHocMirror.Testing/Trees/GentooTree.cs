using System.Globalization;
using System.Text;

namespace AdHocMirror.Testing.Trees;

/// <summary>What a next-version mutation did, by tree-relative path.</summary>
public sealed record TreeChanges(IReadOnlyList<string> Changed, IReadOnlyList<string> Added, IReadOnlyList<string> Removed)
{
    public int Count => Changed.Count + Added.Count + Removed.Count;
}

/// <summary>
/// Generates Gentoo-shaped ebuild trees: categories with packages (ebuilds, metadata.xml, files/), metadata/md5-cache,
/// profiles/, licenses/, eclass/, metadata/timestamp.chk, with realistic sizes (<see cref="FileSizes"/>), deterministic
/// from a seed, at any scale; full GLEP 74 Manifests (<see cref="ManifestWriter"/>); and next versions.
/// </summary>
public static class GentooTree
{
    private static readonly string[] CategoryPrefixes = ["app", "dev", "sys", "net", "media", "x11", "games", "sci", "www", "kde"];
    private static readonly string[] Words = ["misc", "libs", "util", "lang", "python", "perl", "ruby", "admin", "apps", "plugins", "fonts", "text", "video", "sound", "crypt", "fs", "kernel", "db", "vcs", "embedded"];

    private const string RepoNameFile = "profiles/repo_name";

    /// <summary>Writes the content and signed Manifests of a tree.</summary>
    public static async Task CreateAsync(string directory, GentooTreeOptions options, TestSigningKey key)
    {
        WriteContent(directory, options);
        await ManifestWriter.WriteAsync(directory, options.Timestamp, key);
    }

    /// <summary>Writes the content only (no Manifests): the git form of the tree.</summary>
    public static void WriteContent(string directory, GentooTreeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var random = new Random(options.Seed);
        var files = new List<string>
        {
            "metadata/layout.conf", "profiles/repo_name", "profiles/categories", "profiles/use.desc", "profiles/arch.list",
            "profiles/package.mask", "profiles/profiles.desc", "profiles/thirdpartymirrors", "profiles/updates/4Q-2026",
        };
        for (var i = 0; i < Math.Max(1, options.Files / 500); i++)
        {
            files.Add($"licenses/LICENSE-{i}");
        }

        for (var i = 0; i < Math.Max(1, options.Files / 800); i++)
        {
            files.Add($"eclass/eclass{i}.eclass");
        }

        var packageEstimate = Math.Max(1, (options.Files - files.Count) / 7);
        var categories = Enumerable.Range(0, Math.Max(1, packageEstimate / 110))
            .Select(i => $"{CategoryPrefixes[i % CategoryPrefixes.Length]}-{Words[i / CategoryPrefixes.Length % Words.Length]}{(i >= 200 ? i.ToString(CultureInfo.InvariantCulture) : string.Empty)}")
            .ToArray();
        foreach (var category in categories)
        {
            files.Add($"{category}/metadata.xml");
        }

        for (var p = 0; files.Count < options.Files; p++)
        {
            var category = categories[p % categories.Length];
            var package = $"pkg{p}";
            files.Add($"{category}/{package}/metadata.xml");
            var ebuilds = 1 + random.Next(3);
            for (var v = 0; v < ebuilds; v++)
            {
                files.Add($"{category}/{package}/{package}-1.{v}.ebuild");
                files.Add($"metadata/md5-cache/{category}/{package}-1.{v}");
            }

            if (random.NextDouble() < 0.3)
            {
                for (var f = 0; f <= random.Next(2); f++)
                {
                    files.Add($"{category}/{package}/files/{package}-fix{f}.patch");
                }
            }
        }

        var sizes = files.Select(_ => FileSizes.Draw(random)).ToArray();
        Parallel.For(0, files.Count, i => WriteFile(directory, files[i], sizes[i], options.Seed, options.Timestamp));
        WriteTimestampFiles(directory, options.Timestamp);
    }

    /// <summary>
    /// Makes the next version in place: about <paramref name="changes"/> files changed (60%), added (20%: new ebuilds
    /// with their md5-cache entries) and removed (20%), a new timestamp, and re-signed Manifests when
    /// <paramref name="key"/> is given.
    /// </summary>
    public static async Task<TreeChanges> NextVersionAsync(string directory, int seed, int changes, DateTimeOffset timestamp, TestSigningKey? key)
    {
        var random = new Random(seed);
        var content = ListContent(directory);
        // A repository keeps its name from version to version.
        var pool = content.Where(p => !p.StartsWith("metadata/timestamp", StringComparison.Ordinal) && p != RepoNameFile).ToList();
        var changed = new List<string>();
        var removed = new List<string>();
        var added = new List<string>();
        var changeCount = Math.Max(1, changes * 6 / 10);
        var removeCount = Math.Max(1, changes * 2 / 10);
        var addCount = Math.Max(1, changes - changeCount - removeCount);
        foreach (var path in Pick(pool, changeCount + removeCount, random))
        {
            if (removed.Count < removeCount && (path.EndsWith(".ebuild", StringComparison.Ordinal) || path.Contains("/md5-cache/", StringComparison.Ordinal) || path.Contains("/files/", StringComparison.Ordinal)))
            {
                File.Delete(Path.Combine(directory, path));
                removed.Add(path);
            }
            else
            {
                WriteFile(directory, path, FileSizes.Draw(random), seed + 1_000_003, timestamp);
                changed.Add(path);
            }
        }

        var packages = content.Where(p => p.EndsWith("/metadata.xml", StringComparison.Ordinal) && p.Count(c => c == '/') == 2)
            .Select(p => p[..p.LastIndexOf('/')]).ToList();
        for (var i = 0; packages.Count > 0 && added.Count < addCount; i++)
        {
            var package = packages[random.Next(packages.Count)];
            var name = package[(package.IndexOf('/', StringComparison.Ordinal) + 1)..];
            var category = package[..package.IndexOf('/', StringComparison.Ordinal)];
            var version = $"{seed % 1000}.{i}";
            foreach (var path in (string[])[$"{package}/{name}-{version}.ebuild", $"metadata/md5-cache/{category}/{name}-{version}"])
            {
                if (!File.Exists(Path.Combine(directory, path)))
                {
                    WriteFile(directory, path, FileSizes.Draw(random), seed, timestamp);
                    added.Add(path);
                }
            }
        }

        WriteTimestampFiles(directory, timestamp);
        if (key is not null)
        {
            await ManifestWriter.WriteAsync(directory, timestamp, key);
        }

        return new TreeChanges(changed, added, removed);
    }

    /// <summary>Content files (no Manifests), tree-relative, sorted.</summary>
    public static List<string> ListContent(string directory)
    {
        var root = Path.GetFullPath(directory);
        return [.. Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(root, f).Replace('\\', '/'))
            .Where(p => Path.GetFileName(p) is not ("Manifest" or "Manifest.gz") && !p.StartsWith('.') && !p.Contains("/.", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)];
    }

    private static IEnumerable<string> Pick(List<string> pool, int count, Random random)
    {
        var chosen = new HashSet<int>();
        while (chosen.Count < Math.Min(count, pool.Count))
        {
            chosen.Add(random.Next(pool.Count));
        }

        return chosen.Order().Select(i => pool[i]);
    }

    private static void WriteTimestampFiles(string directory, DateTimeOffset timestamp)
    {
        // Not covered by the Manifest (IGNOREd), exactly like the real tree: never a trusted version.
        Directory.CreateDirectory(Path.Combine(directory, "metadata"));
        File.Delete(Path.Combine(directory, "metadata/timestamp.chk"));
        File.Delete(Path.Combine(directory, "metadata/timestamp.x"));
        File.WriteAllText(Path.Combine(directory, "metadata/timestamp.chk"), timestamp.UtcDateTime.ToString("ddd, dd MMM yyyy HH:mm:ss '+0000'", CultureInfo.InvariantCulture) + "\n");
        File.WriteAllText(Path.Combine(directory, "metadata/timestamp.x"), timestamp.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture) + " " + timestamp.UtcDateTime.ToString("ddd MMM dd HH:mm:ss yyyy", CultureInfo.InvariantCulture) + " UTC\n");
    }

    private static readonly byte[] Filler = MakeFiller();

    private static byte[] MakeFiller()
    {
        var random = new Random(7);
        var builder = new StringBuilder(600_000);
        while (builder.Length < 520_000)
        {
            builder.Append(Words[random.Next(Words.Length)]);
            builder.Append(random.Next(12) == 0 ? '\n' : ' ');
        }

        return Encoding.ASCII.GetBytes(builder.ToString());
    }

    private static uint StableHash(string text)
    {
        // FNV-1a: string.GetHashCode is randomised per process, and the trees must not be.
        var hash = 2166136261u;
        foreach (var c in text)
        {
            hash = (hash ^ c) * 16777619u;
        }

        return hash;
    }

    /// <summary>
    /// Writes a file as a new inode (never into an existing one, which may be a hard link into another tree) with its
    /// modification time set to the tree's timestamp, as upstream's files carry the time they changed; rsync's quick
    /// check (size and mtime) then sees every change between versions.
    /// </summary>
    private static void WriteFile(string directory, string relative, int size, int seed, DateTimeOffset timestamp)
    {
        var full = Path.Combine(directory, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        if (relative == RepoNameFile)
        {
            // The real name, so that portage (tests run the reference portage on these trees) knows the repository.
            File.Delete(full);
            File.WriteAllText(full, "gentoo\n");
            File.SetLastWriteTimeUtc(full, timestamp.UtcDateTime);
            return;
        }

        var header = Encoding.ASCII.GetBytes($"# {relative} seed {seed}\n");
        var data = new byte[size];
        header.AsSpan(0, Math.Min(header.Length, size)).CopyTo(data);
        if (size > header.Length)
        {
            var offset = (int)((StableHash(relative) + (uint)seed) % (uint)(Filler.Length - size + 1));
            Filler.AsSpan(offset, size - header.Length).CopyTo(data.AsSpan(header.Length));
        }

        File.Delete(full);
        File.WriteAllBytes(full, data);
        File.SetLastWriteTimeUtc(full, timestamp.UtcDateTime);
    }
}
