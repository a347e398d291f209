using System.Runtime.InteropServices;
using System.Text;

namespace AdHocMirror.Tree.Native;

/// <summary>Kind of a directory entry, from <c>d_type</c> (or lstat when the filesystem does not fill it in).</summary>
internal enum EntryKind : byte
{
    Other = 0,
    Directory = 4,
    RegularFile = 8,
    Symlink = 10,
}

/// <summary>
/// A directory's names (UTF-8, as the kernel returns them, in one buffer: no string per name, since a full tree has
/// 200,000 of them) with their inode numbers and kinds.
/// </summary>
internal sealed class RawListing
{
    internal byte[] Names = new byte[4096];
    internal int Used;
    internal List<RawEntry> Entries = [];

    public ReadOnlySpan<byte> NameOf(in RawEntry entry) => Names.AsSpan(entry.Offset, entry.Length);

    /// <summary>The entries with their names as strings (for the few directories that are worked on name by name).</summary>
    public List<(string Name, ulong Inode, EntryKind Kind)> Named() =>
        [.. Entries.Select(e => (Encoding.UTF8.GetString(NameOf(e)), e.Inode, e.Kind))];
}

/// <summary>
/// A directory's own inode and change time (ctime), taken just before it is listed. The kernel sets a directory's ctime
/// to the current time whenever a name in it is added, removed or renamed (and nothing can set it back), so an equal
/// stamp later, for a stamp older than the clock's reading before it was taken, means the same names and inodes.
/// </summary>
internal readonly record struct DirectoryStamp(ulong Inode, long Seconds, uint Nanoseconds)
{
    public bool IsBefore(in ClockReading clock) => Seconds < clock.Seconds || (Seconds == clock.Seconds && Nanoseconds < clock.Nanoseconds);
}

/// <summary>A reading of the coarse real-time clock, the clock that the kernel stamps inode times from.</summary>
internal readonly record struct ClockReading(long Seconds, long Nanoseconds);

/// <summary>One name of a <see cref="RawListing"/>: where its bytes are, and the inode it is bound to.</summary>
internal readonly record struct RawEntry(int Offset, int Length, ulong Inode, EntryKind Kind);

/// <summary>
/// Lists a directory with getdents64, names with their inode numbers and types: one open, a few getdents and a close
/// per directory instead of a stat per file. A full tree lists (36,000 directories, 178,000 files) in about 0.3 s where
/// a statx of every file took seconds. Linux only.
/// </summary>
internal static class DirectoryReader
{
    private const int ORdOnly = 0;
    private const int ODirectory = 0x10000;
    private const int ONoFollow = 0x20000;
    private const int OCloExec = 0x80000;
    private const int AtEmptyPath = 0x1000;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxType = 0x1;
    private const uint StatxCtime = 0x80;
    private const uint StatxIno = 0x100;
    private const int AtFdCwd = -100;
    private const int ClockRealtimeCoarse = 5;
    private const int BufferSize = 64 << 10;

    // Filesystems whose readdir d_ino is the inode's st_ino and unique on the device. Elsewhere (overlayfs, network
    // filesystems, FUSE) a d_ino may be synthesised or collide between layers, so equal numbers would prove nothing.
    private static readonly HashSet<long> InodeFaithful =
    [
        0xEF53,      // ext2/3/4
        0x58465342,  // xfs
        0x9123683E,  // btrfs
        0x01021994,  // tmpfs
        0xF2F52010,  // f2fs
        0x2FC12FC1,  // zfs
        0xCA451A4E,  // bcachefs
    ];

    [ThreadStatic] private static byte[]? t_buffer;

    public static bool Supported { get; } = OperatingSystem.IsLinux() && RegularFileReader.Supported && Probe();

    /// <summary>Whether directory listings under <paramref name="path"/> carry real, comparable inode numbers; its device when so.</summary>
    public static unsafe bool HasFaithfulInodes(string path, out ulong device)
    {
        device = 0;
        if (!Supported)
        {
            return false;
        }

        // struct statfs begins with f_type (a long) on every 64-bit Linux architecture.
        var buffer = stackalloc long[32];
        if (StatFs(path, buffer) != 0 || !InodeFaithful.Contains(buffer[0] & 0xFFFFFFFF) || !FileIdentity.TryGet(path, out var identity, follow: true))
        {
            return false;
        }

        device = identity.Device;
        return true;
    }

    /// <summary>
    /// Lists <paramref name="path"/> (never following a symlink at its end) into <paramref name="entries"/>, without "." and "..".
    /// False with an error when it cannot be opened or read; <paramref name="device"/> is the directory's own device,
    /// <paramref name="stamp"/> its inode and ctime from before the names were read.
    /// </summary>
    public static unsafe bool TryList(string path, RawListing entries, out ulong device, out DirectoryStamp stamp, out string? error)
    {
        device = 0;
        stamp = default;
        var fd = NoAccessTime.Open(path, ORdOnly | ODirectory | ONoFollow | OCloExec, Open);
        if (fd < 0)
        {
            error = Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError());
            return false;
        }

        try
        {
            var stat = stackalloc byte[256];
            if (Statx(fd, string.Empty, AtEmptyPath, StatxType | StatxIno | StatxCtime, stat) != 0)
            {
                error = Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError());
                return false;
            }

            device = ((ulong)*(uint*)(stat + 136) << 32) | *(uint*)(stat + 140);
            stamp = StampOf(stat);
            var buffer = t_buffer ??= new byte[BufferSize];
            fixed (byte* start = buffer)
            {
                while (true)
                {
                    var count = GetDents64(fd, start, (nuint)buffer.Length);
                    if (count < 0)
                    {
                        error = Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError());
                        return false;
                    }

                    if (count == 0)
                    {
                        break;
                    }

                    for (nint offset = 0; offset < count;)
                    {
                        // struct linux_dirent64: u64 d_ino, s64 d_off, u16 d_reclen, u8 d_type, char d_name[].
                        var record = start + offset;
                        var length = *(ushort*)(record + 16);
                        var name = new ReadOnlySpan<byte>(record + 19, length - 19);
                        name = name[..name.IndexOf((byte)0)];
                        offset += length;
                        if (name is [(byte)'.'] or [(byte)'.', (byte)'.'])
                        {
                            continue;
                        }

                        var kind = (EntryKind)record[18];
                        if (kind is not (EntryKind.Directory or EntryKind.RegularFile or EntryKind.Symlink))
                        {
                            kind = record[18] == 0 ? KindOf(fd, Encoding.UTF8.GetString(name)) : EntryKind.Other;
                        }

                        if (entries.Used + name.Length > entries.Names.Length)
                        {
                            Array.Resize(ref entries.Names, Math.Max(entries.Names.Length * 2, entries.Used + name.Length));
                        }

                        name.CopyTo(entries.Names.AsSpan(entries.Used));
                        entries.Entries.Add(new RawEntry(entries.Used, name.Length, *(ulong*)record, kind));
                        entries.Used += name.Length;
                    }
                }
            }

            error = null;
            return true;
        }
        finally
        {
            _ = Close(fd); // read-only: nothing to lose on a failed close
        }
    }

    /// <summary>The stamp of the directory at <paramref name="path"/> now (false when it is gone or no longer a directory).</summary>
    public static unsafe bool TryStamp(string path, out DirectoryStamp stamp)
    {
        stamp = default;
        var stat = stackalloc byte[256];
        if (Statx(AtFdCwd, path, AtSymlinkNoFollow, StatxType | StatxIno | StatxCtime, stat) != 0 || (*(ushort*)(stat + 28) & 0xF000) != 0x4000)
        {
            return false;
        }

        stamp = StampOf(stat);
        return true;
    }

    /// <summary>The coarse real-time clock now: a change made after this reading gets a ctime at least this late.</summary>
    public static unsafe ClockReading CoarseNow()
    {
        var time = stackalloc long[2];
        return ClockGetTime(ClockRealtimeCoarse, time) == 0 ? new ClockReading(time[0], time[1]) : new ClockReading(long.MinValue, 0);
    }

    // struct statx: stx_ino at 32, stx_ctime (s64 tv_sec, u32 tv_nsec) at 96.
    private static unsafe DirectoryStamp StampOf(byte* stat) => new(*(ulong*)(stat + 32), *(long*)(stat + 96), *(uint*)(stat + 104));

    /// <summary>DT_UNKNOWN: the filesystem left the type out, so ask the inode itself.</summary>
    private static unsafe EntryKind KindOf(int directory, string name)
    {
        var stat = stackalloc byte[256];
        if (Statx(directory, name, AtSymlinkNoFollow, StatxType, stat) != 0)
        {
            return EntryKind.Other;
        }

        return (*(ushort*)(stat + 28) & 0xF000) switch
        {
            0x4000 => EntryKind.Directory,
            0x8000 => EntryKind.RegularFile,
            0xA000 => EntryKind.Symlink,
            _ => EntryKind.Other,
        };
    }

    private static bool Probe()
    {
        try
        {
            return TryList("/", new RawListing(), out _, out _, out _);
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return false;
        }
    }

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    private static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", EntryPoint = "getdents64", SetLastError = true)]
    private static extern unsafe nint GetDents64(int fd, byte* buffer, nuint count);

    [DllImport("libc", EntryPoint = "statx", SetLastError = true)]
    private static extern unsafe int Statx(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, byte* buffer);

    [DllImport("libc", EntryPoint = "statfs", SetLastError = true)]
    private static extern unsafe int StatFs([MarshalAs(UnmanagedType.LPUTF8Str)] string path, long* buffer);

    [DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern unsafe int ClockGetTime(int clock, long* timespec);

    [DllImport("libc", EntryPoint = "close")]
    private static extern int Close(int fd);
}
