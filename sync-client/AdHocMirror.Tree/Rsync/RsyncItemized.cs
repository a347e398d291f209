using System.Text;

namespace AdHocMirror.Tree.Rsync;

/// <summary>
/// rsync's per-file log lines (<see cref="OutFormat"/>: the itemized change, a space, the name), as our own rsync client
/// prints them while it receives: <c>&gt;f</c> is a regular file received. With <c>LC_ALL=C</c> rsync writes every byte
/// that is not printable ASCII (a newline, UTF-8) as <c>\#ooo</c>, so a name from a mirror cannot forge a line.
/// </summary>
public static class RsyncItemized
{
    /// <summary>The <c>--out-format</c> value these lines come from.</summary>
    public const string OutFormat = "%i %n";

    /// <summary>The path (relative to the destination) of the regular file that <paramref name="record"/> says was received.</summary>
    public static bool TryGetReceivedFile(string record, out string path)
    {
        path = string.Empty;
        // ">f" + 9 attribute letters + " " + name.
        if (record.Length < 13 || record[0] != '>' || record[1] != 'f' || record[11] != ' ')
        {
            return false;
        }

        var name = record.AsSpan(12);
        if (!name.Contains('\\'))
        {
            path = name.ToString();
            return path.Length > 0;
        }

        var bytes = new List<byte>(name.Length);
        for (var i = 0; i < name.Length; i++)
        {
            if (name[i] == '\\' && i + 4 < name.Length && name[i + 1] == '#' && IsOctal(name[i + 2]) && IsOctal(name[i + 3]) && IsOctal(name[i + 4]))
            {
                bytes.Add((byte)(((name[i + 2] - '0') << 6) | ((name[i + 3] - '0') << 3) | (name[i + 4] - '0')));
                i += 4;
            }
            else if (name[i] < 0x80)
            {
                bytes.Add((byte)name[i]);
            }
            else
            {
                return false;
            }
        }

        try
        {
            path = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes.ToArray());
        }
        catch (DecoderFallbackException)
        {
            return false; // Not a name a Manifest can list: verification reports it.
        }

        return path.Length > 0;
    }

    private static bool IsOctal(char c) => c is >= '0' and <= '7';
}
