using System.Runtime.InteropServices;

namespace AdHocMirror.Tree.Native;

/// <summary>
/// Work that should use only what the rest of the system leaves idle: on Linux a thread is a task of its own, and
/// nice 19 on it alone gives way to every normal-priority process (rsync, during a transfer) without slowing this one's
/// other threads. Lowering one's own priority needs no privilege.
/// </summary>
internal static class IdlePriority
{
    private const int PrioProcess = 0;
    private const int Lowest = 19;

    /// <summary>Lowers the calling thread to nice 19; false (and unchanged) where that is not possible.</summary>
    public static bool LowerCurrentThread()
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        try
        {
            return SetPriority(PrioProcess, GetTid(), Lowest) == 0;
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return false;
        }
    }

    [DllImport("libc", EntryPoint = "gettid")]
    private static extern int GetTid();

    [DllImport("libc", EntryPoint = "setpriority")]
    private static extern int SetPriority(int which, int who, int priority);
}
