using System.Runtime.InteropServices;

namespace AdHocMirror.Tree.Native;

/// <summary>
/// Opens with O_NOATIME where the kernel allows it (the file's owner, or CAP_FOWNER: root, as portage syncs). Files and
/// directories rsync has just written have an access time older than their change time, so under <c>relatime</c> the
/// first read of each would update it: verification reads 150,000 files and 36,000 directories of a first sync, and
/// each of those updates dirties an inode that the journal then writes, beside rsync's own writes.
/// </summary>
internal static class NoAccessTime
{
    private const int ONoAtime = 0x40000;
    private const int EPerm = 1;

    // Cleared after the first refusal: an unprivileged sync of files it does not own would pay a second open each time.
    private static volatile bool s_allowed = OperatingSystem.IsLinux() && (RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.Arm64);

    /// <summary>Opens <paramref name="path"/> with <paramref name="flags"/>, plus O_NOATIME when permitted; the descriptor or -1 (errno set).</summary>
    public static int Open(string path, int flags, Func<string, int, int> open)
    {
        if (s_allowed)
        {
            var fd = open(path, flags | ONoAtime);
            if (fd >= 0 || Marshal.GetLastPInvokeError() != EPerm)
            {
                return fd;
            }

            s_allowed = false;
        }

        return open(path, flags);
    }
}
