using System.Globalization;
using System.Text;

namespace AdHocMirror.Contracts;

/// <summary>
/// How an error message or a view shows text a caller sent: escaped, so control characters cannot forge
/// log lines or terminal output, and in a quote cut to a short prefix, so an error never echoes a
/// megabyte back (a peer's metadata limit would turn the real error into RESOURCE_EXHAUSTED).
/// </summary>
public static class InputText
{
    /// <summary>Characters of caller input an error message quotes at most.</summary>
    public const int QuoteLength = 40;

    /// <summary><c>'prefix…'</c>: at most <see cref="QuoteLength"/> characters of <paramref name="text"/>, escaped, in quotes.</summary>
    public static string Quote(string? text)
    {
        text ??= string.Empty;
        var cut = text.Length > QuoteLength;
        var shown = cut ? text[..QuoteLength] : text;
        if (cut && char.IsHighSurrogate(shown[^1]))
        {
            shown = shown[..^1];
        }

        return "'" + Escape(shown) + (cut ? $"…' ({text.Length} characters)" : "'");
    }

    /// <summary>The whole text with control, format and lone surrogate characters as <c>\uXXXX</c>.</summary>
    public static string Escape(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return string.Empty;
        }

        StringBuilder? escaped = null;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            var pair = char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]);
            var plain = pair || (!char.IsSurrogate(c) && !IsUnsafe(c));
            if (plain && escaped is null)
            {
                if (pair)
                {
                    i++;
                }

                continue;
            }

            escaped ??= new StringBuilder(text.Length + 16).Append(text, 0, i);
            if (pair)
            {
                escaped.Append(c).Append(text[++i]);
            }
            else if (plain)
            {
                escaped.Append(c);
            }
            else
            {
                escaped.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
            }
        }

        return escaped?.ToString() ?? text;
    }

    private static bool IsUnsafe(char c) =>
        char.IsControl(c) || CharUnicodeInfo.GetUnicodeCategory(c) is UnicodeCategory.Format or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator;
}
