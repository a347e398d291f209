using AdHocMirror.Hosting;

namespace AdHocMirror.Sync.Configuration;

/// <summary>A repository's entry in portage's repos.conf (a file, or a directory of *.conf files read in name order).</summary>
/// <param name="Values">Every key of the section (DEFAULT's included), lower case with <c>-</c> as written by portage users.</param>
public sealed record ReposConfEntry(string Name, IReadOnlyDictionary<string, string> Values)
{
    public string? Location => Get("location");

    public string? SyncType => Get("sync-type");

    public string? SyncUri => Get("sync-uri");

    /// <summary><c>sync-type = ahm</c>: the entry is portage's sync module calling ahm-sync; sync-uri names the coordinator.</summary>
    public bool IsAhm => SyncType == "ahm";

    public string? Get(string key) => Values.TryGetValue(key, out var v) && !string.IsNullOrWhiteSpace(v) ? v.Trim() : null;
}

/// <summary>
/// Reads portage's repos.conf as emerge does (Python's configparser): later files override earlier ones, key by key;
/// <c>key = value</c> or <c>key: value</c>; <c>#</c>/<c>;</c> comments; an indented line continues the value above it
/// (how a list such as <c>sync-ahm-official</c> is written over several lines); DEFAULT's keys apply to every section.
/// </summary>
public static class ReposConf
{
    public static IReadOnlyList<ReposConfEntry> Read(string path)
    {
        var files = Directory.Exists(path)
            ? Directory.EnumerateFiles(path).Where(f => !Path.GetFileName(f).StartsWith('.') && !f.EndsWith('~')).Order(StringComparer.Ordinal).ToList()
            : File.Exists(path) ? [path] : [];
        var merged = new Dictionary<string, Dictionary<string, string>>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            Parse(File.ReadAllLines(file), file, merged);
        }

        var defaults = merged.GetValueOrDefault("DEFAULT") ?? [];
        return merged.Where(s => s.Key != "DEFAULT")
            .Select(s => new ReposConfEntry(s.Key, defaults.Concat(s.Value).GroupBy(p => p.Key).ToDictionary(g => g.Key, g => g.Last().Value, StringComparer.Ordinal)))
            .ToList();
    }

    /// <summary>The entry for <paramref name="repository"/> (by location), else the one named gentoo when the repository is the default.</summary>
    public static ReposConfEntry? Find(IReadOnlyList<ReposConfEntry> entries, string repository, bool repositoryGiven)
    {
        var full = Path.GetFullPath(repository).TrimEnd('/');
        var byLocation = entries.FirstOrDefault(e => e.Location is { } l && Path.GetFullPath(l).TrimEnd('/') == full);
        return byLocation ?? (repositoryGiven ? null : entries.FirstOrDefault(e => e.Name == "gentoo"));
    }

    private static void Parse(string[] lines, string file, Dictionary<string, Dictionary<string, string>> merged)
    {
        Dictionary<string, string>? section = null;
        string? lastKey = null;
        for (var number = 1; number <= lines.Length; number++)
        {
            var raw = lines[number - 1];
            var line = raw.Trim();
            if (line.Length == 0 || line[0] is '#' or ';')
            {
                continue;
            }

            if (char.IsWhiteSpace(raw[0]) && section is not null && lastKey is not null)
            {
                section[lastKey] = (section[lastKey] + "\n" + line).Trim();
                continue;
            }

            if (line[0] == '[')
            {
                if (line[^1] != ']' || line.Length < 3)
                {
                    throw new SettingsException($"repos.conf: {file}:{number}: malformed section header '{line}'");
                }

                var name = line[1..^1].Trim();
                if (!merged.TryGetValue(name, out section))
                {
                    merged[name] = section = new Dictionary<string, string>(StringComparer.Ordinal);
                }

                lastKey = null;
                continue;
            }

            var separator = line.IndexOfAny(['=', ':']);
            if (separator <= 0 || section is null)
            {
                throw new SettingsException($"repos.conf: {file}:{number}: expected 'key = value' inside a [section], found '{line}'");
            }

            lastKey = line[..separator].Trim().ToLowerInvariant();
            section[lastKey] = line[(separator + 1)..].Trim();
        }
    }
}
