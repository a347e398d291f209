using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using AdHocMirror.GeoIP.Format;
using Microsoft.Win32.SafeHandles;

namespace AdHocMirror.GeoIP;

/// <summary>
/// A MaxMind DB file (.mmdb), memory-mapped and read in place. Lookups are thread-safe and may run
/// while another thread disposes it: the mapping is released only after the last running lookup ends,
/// and lookups that start later throw <see cref="ObjectDisposedException"/>.
/// </summary>
public sealed unsafe class GeoDatabase : ICityDatabase
{
    private const int MetadataSearchWindow = 128 * 1024;
    private const int SeparatorLength = 16;

    // "\xAB\xCD\xEFMaxMind.com"
    private static ReadOnlySpan<byte> MetadataMarker => [0xAB, 0xCD, 0xEF, 0x4D, 0x61, 0x78, 0x4D, 0x69, 0x6E, 0x64, 0x2E, 0x63, 0x6F, 0x6D];

    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private readonly SafeMemoryMappedViewHandle _handle;
    private readonly byte* _base;
    private readonly uint _nodeCount;
    private readonly int _recordSize;
    private readonly int _nodeBytes;
    private readonly int _dataStart;
    private readonly int _dataLength;
    private readonly uint _ipv4Start;
    private readonly CityStrings _strings = new();
    private readonly string _dataSectionName;
    private readonly LookupCounter _lookups = new();
    private int _disposed;
    private int _unmapped;

    private GeoDatabase(string path, MemoryMappedFile file, MemoryMappedViewAccessor view, byte* pointer, int length)
    {
        Path = path;
        _dataSectionName = $"{path}: data section";
        _file = file;
        _view = view;
        _handle = view.SafeMemoryMappedViewHandle;
        _base = pointer;
        Length = length;

        var bytes = new ReadOnlySpan<byte>(pointer, length);
        var windowStart = Math.Max(0, length - MetadataSearchWindow);
        var marker = bytes[windowStart..].LastIndexOf(MetadataMarker);
        if (marker < 0)
        {
            throw new InvalidDatabaseException(
                $"{path}: no metadata marker (\\xAB\\xCD\\xEFMaxMind.com) in the last 128 KiB: not a MaxMind DB file, or truncated");
        }

        var metadataStart = windowStart + marker;
        var metadataBytes = bytes[(metadataStart + MetadataMarker.Length)..];
        try
        {
            Metadata = DatabaseMetadata.From(new DataSection(metadataBytes, "metadata").Decode(0, out _));
        }
        catch (InvalidDatabaseException e)
        {
            throw new InvalidDatabaseException($"{path}: {e.Message}", e);
        }

        _nodeCount = Metadata.NodeCount;
        _recordSize = Metadata.RecordSize;
        _nodeBytes = _recordSize / 4;
        var treeSize = (long)_nodeCount * _nodeBytes;
        if (treeSize + SeparatorLength > metadataStart)
        {
            throw new InvalidDatabaseException(
                $"{path}: a search tree of {_nodeCount} nodes of {_recordSize}-bit records ({treeSize} bytes) and the 16-byte separator "
                + $"do not fit before the metadata at {metadataStart}: truncated, or node_count/record_size are wrong");
        }

        if (bytes.Slice((int)treeSize, SeparatorLength).ContainsAnyExcept((byte)0))
        {
            throw new InvalidDatabaseException(
                $"{path}: the 16 bytes after the search tree (at {treeSize}) are not zero: node_count {_nodeCount} or record_size {_recordSize} is wrong");
        }

        _dataStart = (int)treeSize + SeparatorLength;
        _dataLength = metadataStart - _dataStart;

        // IPv4 addresses live in the ::/96 subtree of an IPv6 tree; find it once.
        uint node = 0;
        var depth = 0;
        if (Metadata.IpVersion == 6)
        {
            for (; depth < 96 && node < _nodeCount; depth++)
            {
                node = ReadRecord(node, 0);
            }
        }

        _ipv4Start = node;
    }

    public string Path { get; }

    public DatabaseMetadata Metadata { get; }

    public string DatabaseType => Metadata.DatabaseType;

    public DateTimeOffset BuildTime => Metadata.BuildTime;

    /// <summary>Size of the file in bytes.</summary>
    public int Length { get; }

    /// <summary>Maps <paramref name="path"/> and checks its metadata and layout; a bad file throws <see cref="InvalidDatabaseException"/>.</summary>
    public static GeoDatabase Open(string path)
    {
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        MemoryMappedFile? file = null;
        MemoryMappedViewAccessor? view = null;
        byte* pointer = null;
        try
        {
            var length = stream.Length;
            if (length == 0)
            {
                throw new InvalidDatabaseException($"{path}: the file is empty");
            }

            if (length > int.MaxValue)
            {
                throw new InvalidDatabaseException($"{path}: {length} bytes is larger than the 2 GiB this reader supports");
            }

            file = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
            view = file.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read);
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            return new GeoDatabase(path, file, view, pointer + view.PointerOffset, (int)length);
        }
        catch
        {
            if (pointer != null)
            {
                view!.SafeMemoryMappedViewHandle.ReleasePointer();
            }

            view?.Dispose();
            file?.Dispose();
            stream.Dispose();
            throw;
        }
    }

    /// <summary>The network an address and prefix length lie in, with the host bits cleared.</summary>
    public static IPNetwork NetworkOf(IPAddress address, int prefixLength)
    {
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out var written);
        bytes = bytes[..written];
        for (var bit = prefixLength; bit < written * 8; bit++)
        {
            bytes[bit >> 3] &= (byte)~(0x80 >> (bit & 7));
        }

        return new IPNetwork(new IPAddress(bytes), prefixLength);
    }

    /// <summary>The full record for an address, decoded into the generic value model; null when the database has none.</summary>
    public MmdbValue? Lookup(IPAddress address) => Lookup(address, out _);

    /// <summary>
    /// As <see cref="Lookup(IPAddress)"/>, also giving the prefix length of the matched network (or of the
    /// empty range the address is in), counted in the address's own family like mmdblookup's netmask
    /// for IPv6 and like MaxMind's readers for IPv4.
    /// </summary>
    public MmdbValue? Lookup(IPAddress address, out int prefixLength)
    {
        using var lease = new Lease(this);
        var offset = FindRecord(ref address, out prefixLength);
        return offset < 0 ? null : Data.Decode(offset, out _);
    }

    /// <summary>Whether the database has a record for an address, and the prefix length of the network matched; reads no data.</summary>
    public bool TryFindNetwork(IPAddress address, out int prefixLength)
    {
        using var lease = new Lease(this);
        return FindRecord(ref address, out prefixLength) >= 0;
    }

    /// <summary>The City fields of an address, without decoding the whole record; false when the database has no record for it.</summary>
    public bool TryLookupCity(IPAddress address, out CityLocation location)
    {
        using var lease = new Lease(this);
        var offset = FindRecord(ref address, out var prefixLength);
        if (offset < 0)
        {
            location = default;
            return false;
        }

        location = CityRecord.Read(Data, offset, _strings, address, prefixLength);
        return true;
    }

    /// <summary>
    /// Checks the whole file: every record of the search tree, and every data record it points to (with
    /// all the data they point to). Throws <see cref="InvalidDatabaseException"/> on the first problem.
    /// </summary>
    public void Verify()
    {
        using var lease = new Lease(this);
        var records = new HashSet<int>();
        for (uint node = 0; node < _nodeCount; node++)
        {
            for (var side = 0; side < 2; side++)
            {
                var record = ReadRecord(node, side);
                if (record > _nodeCount)
                {
                    records.Add(DataOffset(record, node));
                }
            }
        }

        var checkedTargets = new HashSet<int>();
        var data = Data;
        foreach (var offset in records)
        {
            try
            {
                data.Check(offset, checkedTargets);
            }
            catch (InvalidDatabaseException e)
            {
                throw new InvalidDatabaseException($"{Path}: {e.Message}", e);
            }
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        // Lookups starting from now on see the flag and refuse; the last running one unmaps.
        UnmapIfIdle();
    }

    private void UnmapIfIdle()
    {
        if (_lookups.Running != 0 || Interlocked.CompareExchange(ref _unmapped, 1, 0) != 0)
        {
            return;
        }

        _handle.ReleasePointer();
        _view.Dispose();
        _file.Dispose();
    }

    private DataSection Data => new(new ReadOnlySpan<byte>(_base + _dataStart, _dataLength), _dataSectionName);

    /// <summary>Walks the tree; returns the record's offset in the data section, or -1 when there is none.</summary>
    private int FindRecord(ref IPAddress address, out int prefixLength)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        Span<byte> bytes = stackalloc byte[16];
        if (!address.TryWriteBytes(bytes, out var written))
        {
            throw new ArgumentException($"cannot read address {address}", nameof(address));
        }

        var bitCount = written * 8;
        uint node;
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            node = _ipv4Start;
        }
        else if (Metadata.IpVersion == 4)
        {
            // An IPv6 address cannot be in an IPv4-only tree (mmdblookup refuses it too).
            prefixLength = 0;
            return -1;
        }
        else
        {
            node = 0;
        }

        var depth = 0;
        var parent = node;
        for (; depth < bitCount && node < _nodeCount; depth++)
        {
            parent = node;
            node = ReadRecord(node, (bytes[depth >> 3] >> (7 - (depth & 7))) & 1);
        }

        // An IPv4 lookup in an IPv6 tree whose ::/96 subtree is a single record matched a network wider than IPv4 itself: /0.
        prefixLength = depth;
        if (node < _nodeCount)
        {
            throw new InvalidDatabaseException($"{Path}: the search tree is deeper than {bitCount} bits at node {node}");
        }

        return node == _nodeCount ? -1 : DataOffset(node, parent);
    }

    private int DataOffset(uint record, uint node)
    {
        var offset = (long)record - _nodeCount - SeparatorLength;
        if (offset < 0 || offset >= _dataLength)
        {
            throw new InvalidDatabaseException(
                $"{Path}: node {node} has record {record}, which points outside the data section ({_dataLength} bytes)");
        }

        return (int)offset;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private uint ReadRecord(uint node, int side)
    {
        var p = _base + ((long)node * _nodeBytes);
        switch (_recordSize)
        {
            case 24:
                p += side * 3;
                return ((uint)p[0] << 16) | ((uint)p[1] << 8) | p[2];
            case 28:
                return side == 0
                    ? ((uint)(p[3] & 0xF0) << 20) | ((uint)p[0] << 16) | ((uint)p[1] << 8) | p[2]
                    : ((uint)(p[3] & 0x0F) << 24) | ((uint)p[4] << 16) | ((uint)p[5] << 8) | p[6];
            default:
                return BinaryPrimitives.ReadUInt32BigEndian(new ReadOnlySpan<byte>(p + (side * 4), 4));
        }
    }

    /// <summary>Keeps the mapping alive for the length of one lookup.</summary>
    private readonly ref struct Lease
    {
        private readonly GeoDatabase _database;
        private readonly int _stripe;

        public Lease(GeoDatabase database)
        {
            _database = database;
            _stripe = database._lookups.Enter();

            // Entering is a full fence, as is setting _disposed: either Dispose sees this lookup
            // running, or this lookup sees the database disposed.
            if (Volatile.Read(ref database._disposed) != 0)
            {
                Dispose();
                throw new ObjectDisposedException(nameof(GeoDatabase), $"{database.Path} was closed");
            }
        }

        public void Dispose()
        {
            _database._lookups.Exit(_stripe);
            if (Volatile.Read(ref _database._disposed) != 0)
            {
                _database.UnmapIfIdle();
            }
        }
    }
}
