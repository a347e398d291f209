using System.Runtime.InteropServices;

namespace AdHocMirror.Tree.Native;

/// <summary>
/// Work that should use only what the rest of the system leaves idle: on Linux a thread is a task of its own, and
/// nice 19 on it alone gives way to every normal-priority process (rsync, during a transfer) without slowing this one's
/// other threads. Lowering one's own priority needs no privilege; raising it back needs CAP_SYS_NICE (root, as portage
/// syncs) or an RLIMIT_NICE that allows it, and is skipped otherwise.
/// </summary>
internal static class IdlePriority
{
    private const int PrioProcess = 0;
    private const int Lowest = 19;

    /// <summary>Lowers the calling thread to nice 19; its thread id and former nice (for <see cref="Restore"/>), or null where that is not possible.</summary>
    public static (int Tid, int Nice)? LowerCurrentThread()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        try
        {
            var tid = GetTid();
            Marshal.SetLastPInvokeError(0);
            var nice = GetPriority(PrioProcess, tid); // -1 is also a valid nice: only errno tells them apart
            if (nice == -1 && Marshal.GetLastPInvokeError() != 0)
            {
                return null;
            }

            return SetPriority(PrioProcess, tid, Lowest) == 0 ? (tid, nice) : null;
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Puts a thread lowered by <see cref="LowerCurrentThread"/> back at its former nice; false where that is not allowed.</summary>
    public static bool Restore((int Tid, int Nice) lowered)
    {
        try
        {
            return SetPriority(PrioProcess, lowered.Tid, lowered.Nice) == 0;
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return false;
        }
    }

    [DllImport("libc", EntryPoint = "gettid")]
    private static extern int GetTid();

    [DllImport("libc", EntryPoint = "getpriority", SetLastError = true)]
    private static extern int GetPriority(int which, int who);

    [DllImport("libc", EntryPoint = "setpriority")]
    private static extern int SetPriority(int which, int who, int priority);
}
