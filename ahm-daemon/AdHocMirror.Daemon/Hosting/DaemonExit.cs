using AdHocMirror.Hosting;
using Microsoft.Extensions.Hosting;

namespace AdHocMirror.Daemon.Hosting;

/// <summary>How the daemon ends: a part that must stop everything (e.g. blacklisted) records the code and reason here.</summary>
public sealed class DaemonExit(IHostApplicationLifetime lifetime)
{
    public int Code { get; private set; } = ExitCodes.Success;

    public string? Reason { get; private set; }

    public void Fail(int code, string reason)
    {
        Code = code;
        Reason = reason;
        lifetime.StopApplication();
    }
}
