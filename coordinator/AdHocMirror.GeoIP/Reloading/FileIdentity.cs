using System.Runtime.InteropServices;

namespace AdHocMirror.GeoIP.Reloading;

/// <summary>
/// Which file a path names at a moment: a replacement by rename has a new inode; an in-place rewrite
/// a new size or modification time.
/// </summary>
internal readonly partial record struct FileIdentity(ulong Device, ulong Inode, long Length, long ModifiedTicks)
{
    public static FileIdentity? Of(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            return null;
        }

        var (device, inode) = NativeStat.DeviceAndInode(path);
        return new FileIdentity(device, inode, info.Length, info.LastWriteTimeUtc.Ticks);
    }

    private static unsafe partial class NativeStat
    {
        private static bool _unavailable = !OperatingSystem.IsLinux() || !Environment.Is64BitProcess;

        /// <summary>
        /// st_dev and st_ino from stat(2). On 64-bit Linux (x86_64, arm64, and the generic layout) they
        /// are the first two 64-bit fields; elsewhere this reports zeros and size/mtime must do.
        /// </summary>
        public static (ulong Device, ulong Inode) DeviceAndInode(string path)
        {
            if (_unavailable)
            {
                return (0, 0);
            }

            var buffer = stackalloc ulong[64];
            try
            {
                return Stat(path, buffer) == 0 ? (buffer[0], buffer[1]) : (0, 0);
            }
            catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
            {
                _unavailable = true;
                return (0, 0);
            }
        }

        [LibraryImport("libc", EntryPoint = "stat", StringMarshalling = StringMarshalling.Utf8)]
        private static partial int Stat(string path, ulong* buffer);
    }
}
