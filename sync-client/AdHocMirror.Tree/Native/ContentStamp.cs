using System.Runtime.InteropServices;

namespace AdHocMirror.Tree.Native;

/// <summary>
/// What changes whenever a file's content may have changed: the inode (a file replaced by rename is another inode), its
/// size and mtime, and its ctime, which every write, truncate, chmod or utimes sets to the kernel's coarse clock and
/// which no caller can set back. A stamp taken with a ctime strictly before a <see cref="ClockReading"/> that preceded
/// the read proves the content read is the content of every later read with an equal stamp (a write after the reading
/// would give a ctime at or after it).
/// </summary>
internal readonly record struct ContentStamp(ulong Device, ulong Inode, long Size, long MtimeSeconds, uint MtimeNanoseconds, long CtimeSeconds, uint CtimeNanoseconds)
{
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const int AtEmptyPath = 0x1000;
    private const uint StatxBasicStats = 0x7ff;

    public bool ChangedBefore(in ClockReading clock) =>
        CtimeSeconds < clock.Seconds || (CtimeSeconds == clock.Seconds && CtimeNanoseconds < clock.Nanoseconds);

    /// <summary>The stamp of the regular file at <paramref name="path"/> (a final symlink is not followed: no stamp); false when there is none.</summary>
    public static unsafe bool TryGet(string path, out ContentStamp stamp)
    {
        var buffer = stackalloc byte[256];
        stamp = default;
        return Statx(AtFdCwd, path, AtSymlinkNoFollow, StatxBasicStats, buffer) == 0 && TryRead(buffer, out stamp);
    }

    /// <summary>The stamp of the regular file open as <paramref name="fd"/>.</summary>
    public static unsafe bool TryGet(int fd, out ContentStamp stamp)
    {
        var buffer = stackalloc byte[256];
        stamp = default;
        return Statx(fd, string.Empty, AtEmptyPath, StatxBasicStats, buffer) == 0 && TryRead(buffer, out stamp);
    }

    // struct statx: stx_mode at 28, stx_ino at 32, stx_size at 40, stx_ctime at 96, stx_mtime at 112, stx_dev_major/minor at 136/140.
    private static unsafe bool TryRead(byte* buffer, out ContentStamp stamp)
    {
        stamp = new ContentStamp(
            ((ulong)*(uint*)(buffer + 136) << 32) | *(uint*)(buffer + 140), *(ulong*)(buffer + 32), *(long*)(buffer + 40),
            *(long*)(buffer + 112), *(uint*)(buffer + 120), *(long*)(buffer + 96), *(uint*)(buffer + 104));
        return (*(ushort*)(buffer + 28) & 0xF000) == 0x8000;
    }

    [DllImport("libc", EntryPoint = "statx", SetLastError = true)]
    private static extern unsafe int Statx(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, byte* buffer);
}
