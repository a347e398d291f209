using System.Runtime.InteropServices;
using AdHocMirror.Hosting;

namespace AdHocMirror.Daemon.Serving;

/// <summary>
/// Never serve as root (DESIGN.md "Least privilege"): when started as root, hand the state and tree directories to the
/// configured user, then switch group, supplementary groups and user for good, before any child or listener starts.
/// </summary>
public static class Privileges
{
    /// <summary>Switches to <paramref name="user"/> if running as root; throws when the switch fails or can be undone.</summary>
    /// <returns>True when privileges were dropped.</returns>
    public static bool DropIfRoot(string user, IEnumerable<string> ownedDirectories)
    {
        ArgumentNullException.ThrowIfNull(ownedDirectories);
        if (!Native.IsRoot)
        {
            return false;
        }

        var entry = Native.GetPasswordEntry(user);
        if (entry == IntPtr.Zero)
        {
            throw new SettingsException($"user: no such user '{user}' to run as (create it, or set 'user' in the configuration)");
        }

        var passwd = Marshal.PtrToStructure<Native.Passwd>(entry);
        if (passwd.Uid == 0)
        {
            throw new SettingsException($"user: '{user}' is root; name an unprivileged user");
        }

        foreach (var directory in ownedDirectories)
        {
            Directory.CreateDirectory(directory);
            if (Native.Chown(directory, passwd.Uid, passwd.Gid) != 0)
            {
                throw new PrivilegeException($"cannot hand {directory} to {user}: errno {Marshal.GetLastPInvokeError()}");
            }
        }

        // Order matters: groups first, while we still may change them; then the user, which drops that right.
        if (Native.SetGroups(1, [passwd.Gid]) != 0)
        {
            throw new PrivilegeException($"setgroups failed: errno {Marshal.GetLastPInvokeError()}");
        }

        if (Native.SetGroupId(passwd.Gid) != 0)
        {
            throw new PrivilegeException($"setgid({passwd.Gid}) failed: errno {Marshal.GetLastPInvokeError()}");
        }

        if (Native.SetUserId(passwd.Uid) != 0)
        {
            throw new PrivilegeException($"setuid({passwd.Uid}) failed: errno {Marshal.GetLastPInvokeError()}");
        }

        if (Native.GetEffectiveUserId() == 0 || Native.SetUserId(0) == 0)
        {
            throw new PrivilegeException("still able to become root after dropping privileges; refusing to continue");
        }

        // Children inherit the environment: make it the user's, not root's.
        Environment.SetEnvironmentVariable("USER", user);
        Environment.SetEnvironmentVariable("LOGNAME", user);
        return true;
    }
}

public sealed class PrivilegeException(string message) : Exception(message);
