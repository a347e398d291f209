using System.Globalization;

namespace AdHocMirror.Hosting;

/// <summary>
/// The <c>--config FILE</c> format of all three programs, in the spirit of rsyncd.conf and Gentoo's
/// conf files: <c>key = value</c> lines, <c>#</c> or <c>;</c> comments, optional <c>[section]</c>
/// headers that prefix the keys of their lines (<c>section:key</c>), optional quotes around values.
/// </summary>
public static class SettingsFile
{
    public static IReadOnlyDictionary<string, string?> Read(string path)
    {
        if (!File.Exists(path))
        {
            throw new SettingsException($"configuration file '{path}' does not exist");
        }

        return Parse(File.ReadAllLines(path), path);
    }

    public static IReadOnlyDictionary<string, string?> Parse(IEnumerable<string> lines, string source)
    {
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        var section = string.Empty;
        var number = 0;
        foreach (var raw in lines)
        {
            number++;
            var line = raw.Trim();
            if (line.Length == 0 || line[0] is '#' or ';')
            {
                continue;
            }

            if (line[0] == '[')
            {
                if (line[^1] != ']' || line.Length < 3)
                {
                    throw new SettingsException($"{source}:{number}: malformed section header '{line}'");
                }

                section = line[1..^1].Trim() + ":";
                continue;
            }

            var equals = line.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new SettingsException($"{source}:{number}: expected 'key = value', found '{line}'");
            }

            var key = line[..equals].Trim().Replace('-', '_').Replace(' ', '_');
            var value = line[(equals + 1)..].Trim();
            if (value.Length >= 2 && ((value[0] == '"' && value[^1] == '"') || (value[0] == '\'' && value[^1] == '\'')))
            {
                value = value[1..^1];
            }

            values[section + key] = value;
        }

        return values;
    }

    /// <summary>Parses durations written as <c>90d</c>, <c>12h</c>, <c>30m</c>, <c>45s</c>, <c>500ms</c> or a TimeSpan.</summary>
    public static bool TryParseDuration(string? text, out TimeSpan duration)
    {
        duration = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        text = text.Trim();
        (string suffix, double factor)[] units = [("ms", 0.001), ("w", 604800), ("d", 86400), ("h", 3600), ("m", 60), ("s", 1)];
        foreach (var (suffix, factor) in units)
        {
            if (text.EndsWith(suffix, StringComparison.Ordinal)
                && double.TryParse(text.AsSpan(0, text.Length - suffix.Length), NumberStyles.Float, CultureInfo.InvariantCulture, out var number)
                && number >= 0)
            {
                duration = TimeSpan.FromSeconds(number * factor);
                return true;
            }
        }

        return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out duration) && duration >= TimeSpan.Zero;
    }
}

/// <summary>A setting is missing or wrong; the message names it.</summary>
public sealed class SettingsException(string message) : Exception(message);
