using System.Runtime.InteropServices;

namespace AdHocMirror.Tree.Native;

/// <summary>
/// realpath(3): a path with every symlink resolved, or why it cannot be (ELOOP for a loop, ENOENT for a dangling link).
/// The kernel's own limit on links followed (40) bounds it, so a loop fails at once instead of running on.
/// </summary>
internal static class RealPath
{
    private const int ENoEnt = 2;
    private const int ELoop = 40;

    /// <summary>Why a path could not be resolved.</summary>
    internal enum Failure
    {
        None,
        Dangling,
        Loop,
        Other,
    }

    public static unsafe string? TryResolve(string path, out Failure failure, out string? error)
    {
        if (!OperatingSystem.IsLinux())
        {
            // Elsewhere .NET's own resolution; its loops end in an IOException.
            try
            {
                var target = new FileInfo(path).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? Path.GetFullPath(path);
                (failure, error) = Path.Exists(target) ? (Failure.None, null) : (Failure.Dangling, "the link's target does not exist");
                return failure == Failure.None ? target : null;
            }
            catch (IOException e)
            {
                (failure, error) = (Failure.Loop, e.Message);
                return null;
            }
        }

        var resolved = Resolve(path, null);
        if (resolved == null)
        {
            var errno = Marshal.GetLastPInvokeError();
            failure = errno switch { ENoEnt => Failure.Dangling, ELoop => Failure.Loop, _ => Failure.Other };
            error = Marshal.GetPInvokeErrorMessage(errno);
            return null;
        }

        try
        {
            failure = Failure.None;
            error = null;
            return Marshal.PtrToStringUTF8((nint)resolved);
        }
        finally
        {
            NativeMemory.Free(resolved); // realpath mallocs its answer; NativeMemory.Free is the C library's free
        }
    }

    [DllImport("libc", EntryPoint = "realpath", SetLastError = true)]
    private static extern unsafe byte* Resolve([MarshalAs(UnmanagedType.LPUTF8Str)] string path, byte* resolved);
}
