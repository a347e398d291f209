using System.Buffers.Binary;
using System.Text;

namespace AdHocMirror.GeoIP.Format;

/// <summary>
/// Reads fields of a MaxMind DB data section (or of the metadata, which uses the same encoding).
/// Every read is bounds-checked: a corrupt file gives an <see cref="InvalidDatabaseException"/>
/// naming the offset, never an out-of-range access.
/// </summary>
internal readonly ref struct DataSection
{
    /// <summary>Deeper nesting than this (maps in maps, or pointers chasing each other) is a corrupt file.</summary>
    public const int MaxDepth = 512;

    private readonly ReadOnlySpan<byte> _bytes;
    private readonly string _name;

    public DataSection(ReadOnlySpan<byte> bytes, string name)
    {
        _bytes = bytes;
        _name = name;
    }

    public int Length => _bytes.Length;

    /// <summary>
    /// Reads the control byte(s) of the field at <paramref name="offset"/> and returns where its payload
    /// starts. For a pointer, <paramref name="size"/> is the (checked) offset it points to and the
    /// return value is the offset just after the pointer.
    /// </summary>
    public int ReadHeader(int offset, out MmdbKind kind, out int size)
    {
        var control = Byte(offset++);
        var type = control >> 5;
        if (type == (int)MmdbKind.Pointer)
        {
            kind = MmdbKind.Pointer;
            var extra = (control >> 3) & 0x3;
            var high = (uint)(control & 0x7);
            Need(offset, extra + 1, "pointer");
            var b = _bytes.Slice(offset, extra + 1);
            var target = extra switch
            {
                0 => (high << 8) | b[0],
                1 => ((high << 16) | ((uint)b[0] << 8) | b[1]) + 2048,
                2 => ((high << 24) | ((uint)b[0] << 16) | ((uint)b[1] << 8) | b[2]) + 526336,
                _ => BinaryPrimitives.ReadUInt32BigEndian(b),
            };
            if (target >= (uint)_bytes.Length)
            {
                throw Invalid($"pointer at offset {offset - 1} points to {target}, beyond the {_name} ({_bytes.Length} bytes)");
            }

            size = (int)target;
            return offset + extra + 1;
        }

        if (type == 0)
        {
            var extended = Byte(offset++);
            type = 7 + extended;
            if (type < 8 || type > (int)MmdbKind.Float)
            {
                throw Invalid($"field at offset {offset - 2} has extended type byte {extended}, which is no known type");
            }
        }

        kind = (MmdbKind)type;
        size = control & 0x1f;
        if (size >= 29)
        {
            var count = size - 28;
            Need(offset, count, "size");
            var b = _bytes.Slice(offset, count);
            size = count switch
            {
                1 => 29 + b[0],
                2 => 285 + ((b[0] << 8) | b[1]),
                _ => 65821 + ((b[0] << 16) | (b[1] << 8) | b[2]),
            };
            offset += count;
        }

        switch (kind)
        {
            case MmdbKind.Double when size != 8:
                throw Invalid($"double at offset {offset} has {size} bytes, not 8");
            case MmdbKind.Float when size != 4:
                throw Invalid($"float at offset {offset} has {size} bytes, not 4");
            case MmdbKind.UInt16 when size > 2:
            case MmdbKind.UInt32 or MmdbKind.Int32 when size > 4:
            case MmdbKind.UInt64 when size > 8:
            case MmdbKind.UInt128 when size > 16:
                throw Invalid($"{kind} at offset {offset} has {size} bytes, too many");
            case MmdbKind.Boolean when size > 1:
                throw Invalid($"boolean at offset {offset} has value {size}, not 0 or 1");
            case MmdbKind.EndMarker when size != 0:
                throw Invalid($"end marker at offset {offset} has size {size}, not 0");
            case MmdbKind.String or MmdbKind.Bytes or MmdbKind.Double or MmdbKind.Float or MmdbKind.UInt16 or MmdbKind.UInt32
                or MmdbKind.Int32 or MmdbKind.UInt64 or MmdbKind.UInt128 or MmdbKind.DataCacheContainer:
                Need(offset, size, kind);
                break;
        }

        return offset;
    }

    /// <summary>
    /// Reads the header of the value at <paramref name="offset"/>, following one pointer; a pointer
    /// to a pointer is refused, as the specification says. <paramref name="next"/> is the offset of
    /// the field after this one when it was a pointer, and -1 otherwise (the caller skips it).
    /// </summary>
    public int Resolve(int offset, out MmdbKind kind, out int size, out int next)
    {
        var payload = ReadHeader(offset, out kind, out size);
        if (kind != MmdbKind.Pointer)
        {
            next = -1;
            return payload;
        }

        next = payload;
        var target = size;
        payload = ReadHeader(target, out kind, out size);
        if (kind == MmdbKind.Pointer)
        {
            throw Invalid($"pointer at offset {offset} points to another pointer at {target}; the specification does not allow following it");
        }

        return payload;
    }

    /// <summary>The offset just after the field at <paramref name="offset"/>; pointers are not followed.</summary>
    public int Next(int offset, int depth = 0)
    {
        var payload = ReadHeader(offset, out var kind, out var size);
        return SkipPayload(payload, kind, size, depth);
    }

    public int SkipPayload(int payload, MmdbKind kind, int size, int depth)
    {
        switch (kind)
        {
            case MmdbKind.Pointer:
                return payload;
            case MmdbKind.Map:
            case MmdbKind.Array:
                if (depth >= MaxDepth)
                {
                    throw Invalid($"data nested deeper than {MaxDepth} at offset {payload}");
                }

                var fields = kind == MmdbKind.Map ? 2L * size : size;
                for (var i = 0L; i < fields; i++)
                {
                    payload = Next(payload, depth + 1);
                }

                return payload;
            case MmdbKind.Boolean or MmdbKind.EndMarker:
                return payload;
            default:
                return payload + size;
        }
    }

    /// <summary>The UTF-8 bytes of the string at <paramref name="offset"/> (following a pointer).</summary>
    public ReadOnlySpan<byte> ResolveString(int offset, out int payload)
    {
        payload = Resolve(offset, out var kind, out var size, out _);
        if (kind != MmdbKind.String)
        {
            throw Invalid($"expected a string at offset {offset}, found a {kind}");
        }

        return _bytes.Slice(payload, size);
    }

    /// <summary>Reads a map key (a string, or a pointer to one) and moves <paramref name="offset"/> past it.</summary>
    public ReadOnlySpan<byte> ReadKey(ref int offset)
    {
        var start = offset;
        var payload = Resolve(offset, out var kind, out var size, out var next);
        if (kind != MmdbKind.String)
        {
            throw Invalid($"expected a string at offset {start}, found a {kind}");
        }

        offset = next >= 0 ? next : payload + size;
        return _bytes.Slice(payload, size);
    }

    public ReadOnlySpan<byte> Payload(int payload, int size) => _bytes.Slice(payload, size);

    public UInt128 ReadUnsigned(int payload, int size)
    {
        UInt128 value = 0;
        foreach (var b in _bytes.Slice(payload, size))
        {
            value = (value << 8) | b;
        }

        return value;
    }

    public ulong ReadUInt64(int payload, int size)
    {
        ulong value = 0;
        foreach (var b in _bytes.Slice(payload, size))
        {
            value = (value << 8) | b;
        }

        return value;
    }

    public double ReadDouble(int payload) => BinaryPrimitives.ReadDoubleBigEndian(_bytes.Slice(payload, 8));

    public float ReadFloat(int payload) => BinaryPrimitives.ReadSingleBigEndian(_bytes.Slice(payload, 4));

    /// <summary>A number of any numeric type as a double (coordinates may be stored as float or integer).</summary>
    public bool TryReadNumber(MmdbKind kind, int payload, int size, out double value)
    {
        switch (kind)
        {
            case MmdbKind.Double:
                value = ReadDouble(payload);
                return true;
            case MmdbKind.Float:
                value = ReadFloat(payload);
                return true;
            case MmdbKind.Int32:
                value = unchecked((int)ReadUInt64(payload, size));
                return true;
            case MmdbKind.UInt16 or MmdbKind.UInt32 or MmdbKind.UInt64:
                value = ReadUInt64(payload, size);
                return true;
            case MmdbKind.UInt128:
                value = (double)ReadUnsigned(payload, size);
                return true;
            default:
                value = 0;
                return false;
        }
    }

    /// <summary>Decodes the value at <paramref name="offset"/> completely (the allocating, generic path).</summary>
    public MmdbValue Decode(int offset, out int next, int depth = 0)
    {
        if (depth >= MaxDepth)
        {
            throw Invalid($"data nested deeper than {MaxDepth} at offset {offset} (a pointer cycle?)");
        }

        var payload = Resolve(offset, out var kind, out var size, out next);
        if (next >= 0)
        {
            return DecodePayload(payload, kind, size, out _, depth + 1);
        }

        return DecodePayload(payload, kind, size, out next, depth);
    }

    private MmdbValue DecodePayload(int payload, MmdbKind kind, int size, out int next, int depth)
    {
        next = payload + size;
        switch (kind)
        {
            case MmdbKind.String:
                return MmdbValue.FromString(Encoding.UTF8.GetString(_bytes.Slice(payload, size)));
            case MmdbKind.Double:
                return MmdbValue.FromDouble(ReadDouble(payload));
            case MmdbKind.Float:
                return MmdbValue.FromFloat(ReadFloat(payload));
            case MmdbKind.Bytes:
                return MmdbValue.FromBytes(_bytes.Slice(payload, size).ToArray());
            case MmdbKind.UInt16 or MmdbKind.UInt32 or MmdbKind.UInt64 or MmdbKind.UInt128:
                return MmdbValue.FromUnsigned(kind, ReadUnsigned(payload, size));
            case MmdbKind.Int32:
                return MmdbValue.FromInt32(unchecked((int)(uint)ReadUInt64(payload, size)));
            case MmdbKind.Boolean:
                next = payload;
                return MmdbValue.FromBoolean(size != 0);
            case MmdbKind.EndMarker:
                next = payload;
                return MmdbValue.Marker(kind);
            case MmdbKind.DataCacheContainer:
                return MmdbValue.Marker(kind);
            case MmdbKind.Map:
            {
                var entries = new Dictionary<string, MmdbValue>(Math.Min(size, 64), StringComparer.Ordinal);
                var at = payload;
                for (var i = 0; i < size; i++)
                {
                    var key = ResolveString(at, out _);
                    at = Next(at, depth + 1);
                    entries[Encoding.UTF8.GetString(key)] = Decode(at, out at, depth + 1);
                }

                next = at;
                return MmdbValue.FromMap(entries);
            }

            case MmdbKind.Array:
            {
                var items = new List<MmdbValue>(Math.Min(size, 64));
                var at = payload;
                for (var i = 0; i < size; i++)
                {
                    items.Add(Decode(at, out at, depth + 1));
                }

                next = at;
                return MmdbValue.FromArray(items);
            }

            default:
                throw Invalid($"unexpected {kind} at offset {payload}");
        }
    }

    /// <summary>
    /// Walks the value at <paramref name="offset"/> and everything it points to, allocating nothing
    /// but <paramref name="checkedTargets"/>, which remembers pointer targets already walked so that
    /// shared data is walked once.
    /// </summary>
    public void Check(int offset, HashSet<int> checkedTargets, int depth = 0)
    {
        if (depth >= MaxDepth)
        {
            throw Invalid($"data nested deeper than {MaxDepth} at offset {offset} (a pointer cycle?)");
        }

        var payload = ReadHeader(offset, out var kind, out var size);
        if (kind == MmdbKind.Pointer)
        {
            var target = size;
            if (checkedTargets.Contains(target))
            {
                return;
            }

            _ = Resolve(offset, out _, out _, out _);
            Check(target, checkedTargets, depth + 1);
            checkedTargets.Add(target);
            return;
        }

        switch (kind)
        {
            case MmdbKind.Map:
                for (var i = 0; i < size; i++)
                {
                    _ = ResolveString(payload, out _);
                    payload = Next(payload, depth + 1);
                    Check(payload, checkedTargets, depth + 1);
                    payload = Next(payload, depth + 1);
                }

                break;
            case MmdbKind.Array:
                for (var i = 0; i < size; i++)
                {
                    Check(payload, checkedTargets, depth + 1);
                    payload = Next(payload, depth + 1);
                }

                break;
        }
    }

    private byte Byte(int offset)
    {
        if ((uint)offset >= (uint)_bytes.Length)
        {
            throw Invalid($"field at offset {offset} runs past the end of the {_name} ({_bytes.Length} bytes)");
        }

        return _bytes[offset];
    }

    private void Need(int offset, int count, string what)
    {
        if ((long)offset + count > _bytes.Length)
        {
            throw Invalid($"{what} at offset {offset} needs {count} bytes, past the end of the {_name} ({_bytes.Length} bytes)");
        }
    }

    private void Need(int offset, int count, MmdbKind kind)
    {
        if ((long)offset + count > _bytes.Length)
        {
            Need(offset, count, kind.ToString());
        }
    }

    private InvalidDatabaseException Invalid(string message) => new($"{_name}: {message}");
}
