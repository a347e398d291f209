using System.Runtime.InteropServices;

namespace AdHocMirror.Tree.Native;

/// <summary>
/// Opens and reads regular files with the fewest syscalls (open, statx on the descriptor, read, close), because
/// verification of a full tree is 150,000 small files and per-file overhead, not hashing, would otherwise dominate.
/// O_NONBLOCK makes opening a FIFO planted by a mirror return at once instead of hanging; it does not affect
/// regular files. O_NOATIME (see <see cref="NoAccessTime"/>) keeps reading a file from writing its inode. Linux only;
/// callers fall back to <see cref="File"/> elsewhere.
/// </summary>
internal sealed class RegularFileReader : IDisposable
{
    private const int ORdOnly = 0;
    private const int ONonBlock = 0x800;
    private const int OCloExec = 0x80000;
    private const int AtEmptyPath = 0x1000;
    private const uint StatxType = 0x1;
    private const uint StatxSize = 0x200;
    private const int EIntr = 4;

    private readonly int _fd;

    private RegularFileReader(int fd, long length)
    {
        _fd = fd;
        Length = length;
    }

    public static bool Supported { get; } = OperatingSystem.IsLinux() && Probe();

    public long Length { get; }

    /// <summary>The open file's <see cref="ContentStamp"/> now; false when statx fails.</summary>
    public bool TryStamp(out ContentStamp stamp) => ContentStamp.TryGet(_fd, out stamp);

    /// <summary>Opens <paramref name="path"/>; null with an error when it is missing, unreadable or not a regular file.</summary>
    public static unsafe RegularFileReader? Open(string path, out string? error, out bool missing)
    {
        missing = false;
        var fd = NoAccessTime.Open(path, ORdOnly | ONonBlock | OCloExec, OpenNative);
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            missing = errno == 2; // ENOENT
            error = Marshal.GetPInvokeErrorMessage(errno);
            return null;
        }

        var buffer = stackalloc byte[256];
        if (Statx(fd, string.Empty, AtEmptyPath, StatxType | StatxSize, buffer) != 0)
        {
            error = Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError());
            Close(fd);
            return null;
        }

        if ((*(ushort*)(buffer + 28) & 0xF000) != 0x8000)
        {
            error = "not a regular file";
            Close(fd);
            return null;
        }

        error = null;
        return new RegularFileReader(fd, *(long*)(buffer + 40));
    }

    /// <summary>Reads up to <paramref name="destination"/>'s length; 0 at end of file.</summary>
    public unsafe int Read(Span<byte> destination)
    {
        while (true)
        {
            nint read;
            fixed (byte* pointer = destination)
            {
                read = ReadNative(_fd, pointer, destination.Length);
            }

            if (read >= 0)
            {
                return (int)read;
            }

            var errno = Marshal.GetLastPInvokeError();
            if (errno != EIntr)
            {
                throw new IOException(Marshal.GetPInvokeErrorMessage(errno));
            }
        }
    }

    /// <summary>Reads until <paramref name="destination"/> is full or the file ends; the count read.</summary>
    public int ReadFully(Span<byte> destination)
    {
        var offset = 0;
        int count;
        while (offset < destination.Length && (count = Read(destination[offset..])) > 0)
        {
            offset += count;
        }

        return offset;
    }

    public void Dispose() => Close(_fd);

    // Nothing useful can be done when close fails on a descriptor opened read-only.
    private static void Close(int fd) => _ = CloseNative(fd);

    private static bool Probe()
    {
        try
        {
            using var self = Open("/proc/self/exe", out _, out _);
            return self is not null;
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return false;
        }
    }

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    private static extern int OpenNative([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", EntryPoint = "read", SetLastError = true)]
    private static extern unsafe nint ReadNative(int fd, byte* buffer, nint count);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    private static extern int CloseNative(int fd);

    [DllImport("libc", EntryPoint = "statx", SetLastError = true)]
    private static extern unsafe int Statx(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, byte* buffer);
}
