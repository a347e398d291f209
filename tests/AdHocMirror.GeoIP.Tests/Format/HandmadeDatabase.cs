using System.Buffers.Binary;
using System.Text;

namespace AdHocMirror.GeoIP.Tests.Format;

/// <summary>
/// Encodes MaxMind DB fields byte by byte, for files the real writer would never produce:
/// corrupt ones, and ones that use every pointer size.
/// </summary>
internal static class HandmadeDatabase
{
    public static byte[] Control(int type, int size)
    {
        var bytes = new List<byte>();
        int sizeBits;
        byte[] extra;
        if (size < 29)
        {
            (sizeBits, extra) = (size, []);
        }
        else if (size < 285)
        {
            (sizeBits, extra) = (29, [(byte)(size - 29)]);
        }
        else if (size < 65821)
        {
            var v = size - 285;
            (sizeBits, extra) = (30, [(byte)(v >> 8), (byte)v]);
        }
        else
        {
            var v = size - 65821;
            (sizeBits, extra) = (31, [(byte)(v >> 16), (byte)(v >> 8), (byte)v]);
        }

        if (type <= 7)
        {
            bytes.Add((byte)((type << 5) | sizeBits));
        }
        else
        {
            bytes.Add((byte)sizeBits);
            bytes.Add((byte)(type - 7));
        }

        bytes.AddRange(extra);
        return [.. bytes];
    }

    public static byte[] String(string value)
    {
        var utf8 = Encoding.UTF8.GetBytes(value);
        return [.. Control(2, utf8.Length), .. utf8];
    }

    public static byte[] Unsigned(int type, ulong value)
    {
        var bytes = new List<byte>();
        for (; value != 0; value >>= 8)
        {
            bytes.Insert(0, (byte)value);
        }

        return [.. Control(type, bytes.Count), .. bytes];
    }

    public static byte[] Map(params (string Key, byte[] Value)[] entries) =>
        [.. Control(7, entries.Length), .. entries.SelectMany(e => String(e.Key).Concat(e.Value))];

    public static byte[] Array(params byte[][] items) => [.. Control(11, items.Length), .. items.SelectMany(i => i)];

    /// <summary>A pointer of the given size class (0: 11 bits, 1: 19 bits + 2048, 2: 27 bits + 526336, 3: 32 bits).</summary>
    public static byte[] Pointer(int sizeClass, uint target)
    {
        switch (sizeClass)
        {
            case 0:
                return [(byte)(0x20 | (target >> 8)), (byte)target];
            case 1:
                var v1 = target - 2048;
                return [(byte)(0x20 | (1 << 3) | (v1 >> 16)), (byte)(v1 >> 8), (byte)v1];
            case 2:
                var v2 = target - 526336;
                return [(byte)(0x20 | (2 << 3) | (v2 >> 24)), (byte)(v2 >> 16), (byte)(v2 >> 8), (byte)v2];
            default:
                var bytes = new byte[5];
                bytes[0] = 0x20 | (3 << 3);
                BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(1), target);
                return bytes;
        }
    }

    public static byte[] Metadata(uint nodeCount, int recordSize, int ipVersion, int majorVersion = 2) => Map(
        ("node_count", Unsigned(6, nodeCount)),
        ("record_size", Unsigned(5, (ulong)recordSize)),
        ("ip_version", Unsigned(5, (ulong)ipVersion)),
        ("database_type", String("AHM-Handmade")),
        ("languages", Array(String("en"))),
        ("binary_format_major_version", Unsigned(5, (ulong)majorVersion)),
        ("binary_format_minor_version", Unsigned(5, 0)),
        ("build_epoch", Unsigned(9, 1_700_000_000)),
        ("description", Map(("en", String("handmade")))));

    /// <summary>
    /// An IPv4 tree of one 24-bit node: addresses 0.0.0.0/1 point to <paramref name="dataOffset"/>
    /// in the data section, 128.0.0.0/1 to nothing.
    /// </summary>
    public static byte[] File(byte[] data, uint dataOffset = 0, byte[]? metadata = null, byte[]? separator = null)
    {
        const uint nodeCount = 1;
        var left = nodeCount + 16 + dataOffset;
        byte[] tree = [(byte)(left >> 16), (byte)(left >> 8), (byte)left, 0, 0, (byte)nodeCount];
        return [.. tree, .. separator ?? new byte[16], .. data, .. Marker, .. metadata ?? Metadata(nodeCount, 24, 4)];
    }

    public static byte[] Marker => [0xAB, 0xCD, 0xEF, .. "MaxMind.com"u8];
}
