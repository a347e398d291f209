using System.Globalization;
using System.Text;

namespace AdHocMirror.Daemon.Enrolment;

/// <summary>This mirror's key as the coordinator issued it.</summary>
public sealed record StoredKey(string KeyId, string Secret, DateTimeOffset IssuedAt, DateTimeOffset ExpiresAt)
{
    public TimeSpan AgeAt(DateTimeOffset now) => now - IssuedAt;

    public override string ToString() => KeyId;
}

/// <summary>
/// The key file in the state directory: <c>key_id</c>, <c>secret</c>, <c>issued</c>, <c>expires</c> lines, mode 0600,
/// replaced atomically (write a temporary file, fsync, rename) so that a crash leaves the old key or the new one.
/// </summary>
public sealed class KeyFile(string path)
{
    public string Path { get; } = path;

    /// <summary>The stored key; null when there is none; <see cref="InvalidDataException"/> when the file is damaged.</summary>
    public StoredKey? Load()
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(Path);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }

        if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(Path) & (UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite)) != 0)
        {
            // Someone loosened it; tighten before using the secret any further.
            File.SetUnixFileMode(Path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        var values = lines.Select(l => l.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0].Trim(), p => p[1].Trim(), StringComparer.Ordinal);
        if (!values.TryGetValue("key_id", out var id) || !IsHex(id, 32)
            || !values.TryGetValue("secret", out var secret) || !IsHex(secret, 64)
            || !TryTime(values, "issued", out var issued) || !TryTime(values, "expires", out var expires))
        {
            throw new InvalidDataException($"{Path} is damaged (expected key_id, secret, issued and expires)");
        }

        return new StoredKey(id, secret, issued, expires);
    }

    public void Save(StoredKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        var text = new StringBuilder()
            .Append("# ahm-daemon mirror key; secret: keep private\n")
            .Append("key_id=").Append(key.KeyId).Append('\n')
            .Append("secret=").Append(key.Secret).Append('\n')
            .Append("issued=").Append(key.IssuedAt.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)).Append('\n')
            .Append("expires=").Append(key.ExpiresAt.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)).Append('\n')
            .ToString();
        AtomicFile.Write(Path, Encoding.UTF8.GetBytes(text), UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    public bool Delete()
    {
        var existed = File.Exists(Path);
        File.Delete(Path);
        return existed;
    }

    private static bool IsHex(string text, int length) => text.Length == length && text.All(char.IsAsciiHexDigitLower);

    private static bool TryTime(Dictionary<string, string> values, string key, out DateTimeOffset time)
    {
        time = default;
        if (!values.TryGetValue(key, out var text) || !long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            return false;
        }

        time = DateTimeOffset.FromUnixTimeSeconds(seconds);
        return true;
    }
}

/// <summary>Replaces a file so that readers see the old content or the new, never a mix, even across a crash.</summary>
public static class AtomicFile
{
    public static void Write(string path, byte[] content, UnixFileMode mode)
    {
        var temporary = path + ".tmp-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = mode;
        }

        using (var stream = new FileStream(temporary, options))
        {
            stream.Write(content);
            stream.Flush(flushToDisk: true);
        }

        if (!OperatingSystem.IsWindows())
        {
            // The create mode is masked by the umask, and an existing temporary keeps its old mode.
            File.SetUnixFileMode(temporary, mode);
        }

        File.Move(temporary, path, overwrite: true);
    }
}
