using AdHocMirror.Hosting;

namespace AdHocMirror.Sync.Configuration;

/// <summary>A repository's entry in portage's repos.conf (a file, or a directory of *.conf files read in name order).</summary>
public sealed record ReposConfEntry(string Name, string? Location, string? SyncType, string? SyncUri);

/// <summary>Reads portage's repos.conf as emerge does: later files override earlier ones, key by key.</summary>
public static class ReposConf
{
    public static IReadOnlyList<ReposConfEntry> Read(string path)
    {
        var files = Directory.Exists(path)
            ? Directory.EnumerateFiles(path).Where(f => !Path.GetFileName(f).StartsWith('.') && !f.EndsWith('~')).Order(StringComparer.Ordinal).ToList()
            : File.Exists(path) ? [path] : [];
        var merged = new Dictionary<string, Dictionary<string, string?>>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            foreach (var (key, value) in SettingsFile.Read(file))
            {
                var colon = key.IndexOf(':', StringComparison.Ordinal);
                if (colon <= 0)
                {
                    continue;
                }

                var section = key[..colon];
                if (!merged.TryGetValue(section, out var entry))
                {
                    merged[section] = entry = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
                }

                entry[key[(colon + 1)..]] = value;
            }
        }

        return merged.Where(s => s.Key != "DEFAULT")
            .Select(s => new ReposConfEntry(s.Key, Get(s.Value, "location"), Get(s.Value, "sync_type"), Get(s.Value, "sync_uri")))
            .ToList();
    }

    /// <summary>The entry for <paramref name="repository"/> (by location), else the one named gentoo when the repository is the default.</summary>
    public static ReposConfEntry? Find(IReadOnlyList<ReposConfEntry> entries, string repository, bool repositoryGiven)
    {
        var full = Path.GetFullPath(repository).TrimEnd('/');
        var byLocation = entries.FirstOrDefault(e => e.Location is { } l && Path.GetFullPath(l).TrimEnd('/') == full);
        return byLocation ?? (repositoryGiven ? null : entries.FirstOrDefault(e => e.Name == "gentoo"));
    }

    private static string? Get(Dictionary<string, string?> values, string key) =>
        values.TryGetValue(key, out var v) && !string.IsNullOrWhiteSpace(v) ? v : null;
}
