using System.Runtime.InteropServices;

namespace AdHocMirror.Tree.Native;

/// <summary>rename(2) and renameat2(2) with RENAME_EXCHANGE: the two ways a directory changes places atomically.</summary>
internal static class LinuxRename
{
    private const int AtFdCwd = -100;
    private const uint RenameNoReplace = 1;
    private const uint RenameExchange = 2;
    private const int EExist = 17;
    private const int EInval = 22;
    private const int ENoSys = 38;
    private const int EOpNotSupp = 95;

    /// <summary>Atomically exchanges two existing paths. False when the kernel or filesystem cannot (then use two renames).</summary>
    public static bool TryExchange(string a, string b)
    {
        var errno = Renameat2(a, b, RenameExchange);
        if (errno is 0 or EInval or ENoSys or EOpNotSupp)
        {
            return errno == 0;
        }

        throw new IOException($"renameat2({a}, {b}, RENAME_EXCHANGE) failed: {Marshal.GetPInvokeErrorMessage(errno)}");
    }

    /// <summary>rename(2): atomically moves <paramref name="from"/> to <paramref name="to"/>, replacing an empty directory or a file/symlink.</summary>
    public static void Rename(string from, string to)
    {
        if (RenameNative(from, to) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new IOException($"rename({from}, {to}) failed: {Marshal.GetPInvokeErrorMessage(errno)}");
        }
    }

    /// <summary>
    /// Moves <paramref name="from"/> to <paramref name="to"/> unless something is already there (false then): atomically
    /// with RENAME_NOREPLACE, else (filesystems without it) checked just before a plain rename.
    /// </summary>
    public static bool TryMoveNoReplace(string from, string to)
    {
        var errno = Renameat2(from, to, RenameNoReplace);
        if (errno is 0 or EExist)
        {
            return errno == 0;
        }

        if (errno is not (EInval or ENoSys or EOpNotSupp))
        {
            throw new IOException($"renameat2({from}, {to}, RENAME_NOREPLACE) failed: {Marshal.GetPInvokeErrorMessage(errno)}");
        }

        if (FileIdentity.TryGet(to, out _))
        {
            return false;
        }

        Rename(from, to);
        return true;
    }

    /// <summary>renameat2(2): 0, or the errno (ENOSYS where there is no such call: not Linux, or an old C library).</summary>
    private static int Renameat2(string from, string to, uint flags)
    {
        if (!OperatingSystem.IsLinux())
        {
            return ENoSys;
        }

        try
        {
            return Renameat2(AtFdCwd, from, AtFdCwd, to, flags) == 0 ? 0 : Marshal.GetLastPInvokeError();
        }
        catch (EntryPointNotFoundException)
        {
            return ENoSys;
        }
    }

    [DllImport("libc", EntryPoint = "renameat2", SetLastError = true)]
    private static extern int Renameat2(int olddirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string oldpath, int newdirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string newpath, uint flags);

    [DllImport("libc", EntryPoint = "rename", SetLastError = true)]
    private static extern int RenameNative([MarshalAs(UnmanagedType.LPUTF8Str)] string oldpath, [MarshalAs(UnmanagedType.LPUTF8Str)] string newpath);
}
