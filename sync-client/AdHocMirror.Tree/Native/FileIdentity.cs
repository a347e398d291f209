using System.Runtime.InteropServices;

namespace AdHocMirror.Tree.Native;

/// <summary>Device and inode of a path (without following a final symlink), read with Linux statx(2).</summary>
internal readonly record struct FileIdentity(ulong Device, ulong Inode, long Size, bool IsRegularFile)
{
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxBasicStats = 0x7ff;

    /// <summary>Whether <paramref name="path"/> is, after following symlinks, a regular file: the only kind worth opening
    /// (a FIFO or device planted by a mirror would block or never end). True where statx is unavailable.</summary>
    public static bool IsRegularFileOrUnknown(string path) => !OperatingSystem.IsLinux() || !TryGet(path, out var identity, follow: true) || identity.IsRegularFile;

    public static bool TryGet(string path, out FileIdentity identity) => TryGet(path, out identity, follow: false);

    public static unsafe bool TryGet(string path, out FileIdentity identity, bool follow)
    {
        identity = default;
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        // struct statx is the same on every Linux architecture, unlike struct stat.
        var buffer = stackalloc byte[256];
        try
        {
            if (Statx(AtFdCwd, path, follow ? 0 : AtSymlinkNoFollow, StatxBasicStats, buffer) != 0)
            {
                return false;
            }
        }
        catch (EntryPointNotFoundException)
        {
            return false;
        }

        var mode = *(ushort*)(buffer + 28);
        var inode = *(ulong*)(buffer + 32);
        var size = *(long*)(buffer + 40);
        var devMajor = *(uint*)(buffer + 136);
        var devMinor = *(uint*)(buffer + 140);
        identity = new FileIdentity(((ulong)devMajor << 32) | devMinor, inode, size, (mode & 0xF000) == 0x8000);
        return true;
    }

    [DllImport("libc", EntryPoint = "statx", SetLastError = true)]
    private static extern unsafe int Statx(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, byte* buffer);
}
