using System.Collections;
using System.Text;

namespace AdHocMirror.Wire;

/// <summary>
/// gRPC custom metadata: ordered, case-insensitive ASCII keys; keys ending in <c>-bin</c>
/// carry bytes (base64 on the wire, padded or not).
/// </summary>
public sealed class Metadata : IEnumerable<Metadata.Entry>
{
    public const string BinarySuffix = "-bin";

    private readonly List<Entry> _entries = [];

    public int Count => _entries.Count;

    public Metadata Add(string key, string value)
    {
        key = NormalizeKey(key);
        if (IsBinaryKey(key))
        {
            throw new ArgumentException($"Metadata key '{key}' is binary; add a byte[] value.", nameof(key));
        }

        foreach (var c in value)
        {
            if (c < 0x20 || c > 0x7E)
            {
                throw new ArgumentException($"Metadata value for '{key}' must be printable ASCII.", nameof(value));
            }
        }

        _entries.Add(new Entry(key, value, null));
        return this;
    }

    public Metadata Add(string key, byte[] value)
    {
        key = NormalizeKey(key);
        if (!IsBinaryKey(key))
        {
            throw new ArgumentException($"Metadata key '{key}' must end in '{BinarySuffix}' to carry bytes.", nameof(key));
        }

        _entries.Add(new Entry(key, null, value));
        return this;
    }

    /// <summary>The last text value for the key, or null.</summary>
    public string? Get(string key)
    {
        for (var i = _entries.Count - 1; i >= 0; i--)
        {
            if (string.Equals(_entries[i].Key, key, StringComparison.OrdinalIgnoreCase))
            {
                return _entries[i].Value;
            }
        }

        return null;
    }

    /// <summary>The last binary value for the key, or null.</summary>
    public byte[]? GetBytes(string key)
    {
        for (var i = _entries.Count - 1; i >= 0; i--)
        {
            if (string.Equals(_entries[i].Key, key, StringComparison.OrdinalIgnoreCase))
            {
                return _entries[i].ValueBytes;
            }
        }

        return null;
    }

    public IEnumerator<Entry> GetEnumerator() => _entries.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public static bool IsBinaryKey(string key) => key.EndsWith(BinarySuffix, StringComparison.OrdinalIgnoreCase);

    /// <summary>Header names that belong to the protocol and are never exposed as metadata.</summary>
    /// <remarks><c>grpc-retry-pushback-ms</c> (gRFC A6) is the one grpc- name a server application sets, in trailers.</remarks>
    public static bool IsReservedHeader(string name) =>
        name.StartsWith(':')
        || (name.StartsWith("grpc-", StringComparison.OrdinalIgnoreCase) && !name.Equals("grpc-retry-pushback-ms", StringComparison.OrdinalIgnoreCase))
        || name.Equals("content-type", StringComparison.OrdinalIgnoreCase)
        || name.Equals("te", StringComparison.OrdinalIgnoreCase)
        || name.Equals("host", StringComparison.OrdinalIgnoreCase)
        || name.Equals("content-length", StringComparison.OrdinalIgnoreCase)
        || name.Equals("connection", StringComparison.OrdinalIgnoreCase)
        || name.Equals("transfer-encoding", StringComparison.OrdinalIgnoreCase)
        || name.Equals("accept-encoding", StringComparison.OrdinalIgnoreCase);

    /// <summary>Adds a header received from the wire, decoding <c>-bin</c> values.</summary>
    internal void AddFromWire(string name, string value)
    {
        name = name.ToLowerInvariant();
        if (IsBinaryKey(name))
        {
            // Several values of one -bin header may arrive comma-joined.
            foreach (var part in value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                if (TryDecodeBase64(part, out var bytes))
                {
                    _entries.Add(new Entry(name, null, bytes));
                }
            }
        }
        else
        {
            _entries.Add(new Entry(name, value, null));
        }
    }

    internal static string EncodeBinary(byte[] value) => Convert.ToBase64String(value).TrimEnd('=');

    private static bool TryDecodeBase64(string text, out byte[] bytes)
    {
        var padded = (text.Length % 4) switch
        {
            2 => text + "==",
            3 => text + "=",
            _ => text,
        };
        var buffer = new byte[(padded.Length / 4 * 3) + 3];
        if (Convert.TryFromBase64String(padded, buffer, out var written))
        {
            bytes = buffer.AsSpan(0, written).ToArray();
            return true;
        }

        bytes = [];
        return false;
    }

    private static string NormalizeKey(string key)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        var lower = key.ToLowerInvariant();
        foreach (var c in lower)
        {
            if (!(c is >= 'a' and <= 'z' or >= '0' and <= '9' or '-' or '_' or '.'))
            {
                throw new ArgumentException($"Metadata key '{key}' has a character gRPC does not allow.", nameof(key));
            }
        }

        if (IsReservedHeader(lower))
        {
            throw new ArgumentException($"Metadata key '{key}' is reserved by the protocol.", nameof(key));
        }

        return lower;
    }

    public readonly record struct Entry(string Key, string? Value, byte[]? ValueBytes)
    {
        public bool IsBinary => ValueBytes is not null;

        internal string WireValue => ValueBytes is null ? Value! : EncodeBinary(ValueBytes);

        public override string ToString() => IsBinary ? $"{Key}: <{ValueBytes!.Length} bytes>" : $"{Key}: {Value}";
    }
}
