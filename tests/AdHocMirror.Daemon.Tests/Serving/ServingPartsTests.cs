using AdHocMirror.Daemon.Configuration;
using AdHocMirror.Daemon.Serving;
using AdHocMirror.Daemon.Session;

namespace AdHocMirror.Daemon.Tests.Serving;

public sealed class ServingPartsTests
{
    [Fact]
    public void Rsyncd_conf_serves_one_read_only_module_from_the_current_snapshot_within_the_limits()
    {
        var options = new DaemonOptions { StateDir = "/var/lib/ahm-daemon", MaxClients = 7 };
        var text = RsyncdConfig.Render(options, "/var/cache/ahm-daemon/rsync/current", asRoot: false);
        Assert.Contains("[gentoo-portage]", text, StringComparison.Ordinal);
        Assert.Contains("path = /var/cache/ahm-daemon/rsync/current", text, StringComparison.Ordinal);
        Assert.Contains("read only = yes", text, StringComparison.Ordinal);
        Assert.Contains("max connections = 7", text, StringComparison.Ordinal);
        Assert.Contains("use chroot = no", text, StringComparison.Ordinal);
        Assert.Contains("munge symlinks = yes", text, StringComparison.Ordinal);
        Assert.Contains("lock file = /var/lib/ahm-daemon/rsyncd.lock", text, StringComparison.Ordinal);
        Assert.Contains("refuse options = delete", text, StringComparison.Ordinal);
        Assert.Contains("use chroot = yes", RsyncdConfig.Render(options, "/x", asRoot: true), StringComparison.Ordinal);
    }

    [Fact]
    public void Client_addresses_are_cut_before_logging()
    {
        Assert.Equal("connect from UNDETERMINED (192.0.2.x)", SupervisedChild.Redact("connect from UNDETERMINED (192.0.2.77)"));
        Assert.DoesNotContain("beef", SupervisedChild.Redact("connect from 2001:db8:1:2:3:4:5:beef"), StringComparison.Ordinal);
    }

    [Fact]
    public void Children_are_counted_from_proc()
    {
        using var child = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("cat") { RedirectStandardInput = true, UseShellExecute = false })!;
        try
        {
            Assert.Equal(Environment.ProcessId, ActiveConnections.ParentOf($"/proc/{child.Id}"));
            // Other tests may run children of this process at the same time: at least this one is counted.
            Assert.True(ActiveConnections.CountChildren([Environment.ProcessId]) >= 1);
            Assert.Equal(0, ActiveConnections.CountChildren([]));
        }
        finally
        {
            child.StandardInput.Close();
            child.WaitForExit();
        }
    }

    [Fact]
    public void Backoff_doubles_with_jitter_up_to_the_cap_and_resets()
    {
        var backoff = new Backoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10), new Random(3));
        var waits = Enumerable.Range(0, 8).Select(_ => backoff.Next()).ToList();
        Assert.InRange(waits[0], TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(1));
        Assert.InRange(waits[3], TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(8));
        Assert.All(waits, w => Assert.True(w <= TimeSpan.FromSeconds(10)));
        Assert.InRange(waits[7], TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(10));
        backoff.Reset();
        Assert.InRange(backoff.Next(), TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(1));
    }
}
