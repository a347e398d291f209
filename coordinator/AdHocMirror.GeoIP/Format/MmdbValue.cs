using System.Globalization;
using System.Text;

namespace AdHocMirror.GeoIP.Format;

/// <summary>
/// One decoded value of the data section, of any type: the complete (allocating) view of a record.
/// The coordinator's hot path does not use this; see <see cref="GeoDatabase.TryLookupCity"/>.
/// </summary>
public sealed class MmdbValue
{
    private static readonly IReadOnlyDictionary<string, MmdbValue> NoEntries = new Dictionary<string, MmdbValue>(0);

    private readonly UInt128 _integer;
    private readonly double _real;
    private readonly object? _reference;

    private MmdbValue(MmdbKind kind, UInt128 integer = default, double real = 0, object? reference = null)
    {
        Kind = kind;
        _integer = integer;
        _real = real;
        _reference = reference;
    }

    public MmdbKind Kind { get; }

    public static MmdbValue FromString(string value) => new(MmdbKind.String, reference: value);

    public static MmdbValue FromDouble(double value) => new(MmdbKind.Double, real: value);

    public static MmdbValue FromFloat(float value) => new(MmdbKind.Float, real: value);

    public static MmdbValue FromBytes(byte[] value) => new(MmdbKind.Bytes, reference: value);

    public static MmdbValue FromUnsigned(MmdbKind kind, UInt128 value) => new(kind, integer: value);

    public static MmdbValue FromInt32(int value) => new(MmdbKind.Int32, integer: unchecked((UInt128)(uint)value), real: value);

    public static MmdbValue FromBoolean(bool value) => new(MmdbKind.Boolean, integer: value ? 1u : 0u);

    public static MmdbValue FromMap(IReadOnlyDictionary<string, MmdbValue> entries) => new(MmdbKind.Map, reference: entries);

    public static MmdbValue FromArray(IReadOnlyList<MmdbValue> items) => new(MmdbKind.Array, reference: items);

    public static MmdbValue Marker(MmdbKind kind) => new(kind);

    public string AsString() => Kind == MmdbKind.String ? (string)_reference! : throw WrongKind(MmdbKind.String);

    public double AsDouble() => Kind switch
    {
        MmdbKind.Double or MmdbKind.Float => _real,
        MmdbKind.Int32 => AsInt32(),
        MmdbKind.UInt16 or MmdbKind.UInt32 or MmdbKind.UInt64 or MmdbKind.UInt128 => (double)_integer,
        _ => throw WrongKind(MmdbKind.Double),
    };

    public float AsFloat() => Kind == MmdbKind.Float ? (float)_real : throw WrongKind(MmdbKind.Float);

    public int AsInt32() => Kind == MmdbKind.Int32 ? unchecked((int)(uint)_integer) : throw WrongKind(MmdbKind.Int32);

    /// <summary>Any unsigned integer type (uint16 … uint128) as a 128-bit value.</summary>
    public UInt128 AsUInt128() => Kind is MmdbKind.UInt16 or MmdbKind.UInt32 or MmdbKind.UInt64 or MmdbKind.UInt128
        ? _integer
        : throw WrongKind(MmdbKind.UInt128);

    public ulong AsUInt64() => checked((ulong)AsUInt128());

    public bool AsBoolean() => Kind == MmdbKind.Boolean ? _integer != 0 : throw WrongKind(MmdbKind.Boolean);

    public ReadOnlyMemory<byte> AsBytes() => Kind == MmdbKind.Bytes ? (byte[])_reference! : throw WrongKind(MmdbKind.Bytes);

    public IReadOnlyDictionary<string, MmdbValue> AsMap() =>
        Kind == MmdbKind.Map ? (IReadOnlyDictionary<string, MmdbValue>)_reference! : throw WrongKind(MmdbKind.Map);

    public IReadOnlyList<MmdbValue> AsArray() =>
        Kind == MmdbKind.Array ? (IReadOnlyList<MmdbValue>)_reference! : throw WrongKind(MmdbKind.Array);

    /// <summary>The entry of a map, or null when this is not a map or has no such key.</summary>
    public MmdbValue? this[string key] =>
        (Kind == MmdbKind.Map ? (IReadOnlyDictionary<string, MmdbValue>)_reference! : NoEntries).GetValueOrDefault(key);

    /// <summary>The item of an array, or null when this is not an array or is shorter.</summary>
    public MmdbValue? this[int index] =>
        Kind == MmdbKind.Array && _reference is IReadOnlyList<MmdbValue> items && index >= 0 && index < items.Count ? items[index] : null;

    /// <summary>Follows a path of map keys and array indexes, like <c>mmdblookup … city names en</c>.</summary>
    public MmdbValue? Path(params ReadOnlySpan<string> steps)
    {
        var value = this;
        foreach (var step in steps)
        {
            value = value!.Kind == MmdbKind.Array && int.TryParse(step, NumberStyles.None, CultureInfo.InvariantCulture, out var index)
                ? value[index]
                : value[step];
            if (value is null)
            {
                return null;
            }
        }

        return value;
    }

    /// <summary>A JSON-like rendering, for logs and diagnostics.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        Render(text);
        return text.ToString();
    }

    private void Render(StringBuilder text)
    {
        switch (Kind)
        {
            case MmdbKind.String:
                text.Append('"').Append(AsString().Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)).Append('"');
                break;
            case MmdbKind.Double:
                text.Append(_real.ToString("R", CultureInfo.InvariantCulture));
                break;
            case MmdbKind.Float:
                text.Append(((float)_real).ToString("R", CultureInfo.InvariantCulture));
                break;
            case MmdbKind.Bytes:
                text.Append("0x").Append(Convert.ToHexString((byte[])_reference!));
                break;
            case MmdbKind.Int32:
                text.Append(AsInt32().ToString(CultureInfo.InvariantCulture));
                break;
            case MmdbKind.UInt16 or MmdbKind.UInt32 or MmdbKind.UInt64 or MmdbKind.UInt128:
                text.Append(_integer.ToString(CultureInfo.InvariantCulture));
                break;
            case MmdbKind.Boolean:
                text.Append(AsBoolean() ? "true" : "false");
                break;
            case MmdbKind.Map:
                text.Append('{');
                var first = true;
                foreach (var (key, value) in AsMap())
                {
                    text.Append(first ? string.Empty : ",").Append('"').Append(key).Append("\":");
                    value.Render(text);
                    first = false;
                }

                text.Append('}');
                break;
            case MmdbKind.Array:
                text.Append('[');
                for (var i = 0; i < AsArray().Count; i++)
                {
                    if (i > 0)
                    {
                        text.Append(',');
                    }

                    AsArray()[i].Render(text);
                }

                text.Append(']');
                break;
            default:
                text.Append('<').Append(Kind).Append('>');
                break;
        }
    }

    private InvalidOperationException WrongKind(MmdbKind wanted) => new($"value is a {Kind}, not a {wanted}");
}
