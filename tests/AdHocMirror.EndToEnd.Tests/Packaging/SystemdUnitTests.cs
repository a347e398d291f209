using AdHocMirror.Testing;

namespace AdHocMirror.EndToEnd.Tests.Packaging;

/// <summary>systemd's own parser over the optional units (with the program paths pointed at an existing binary).</summary>
public sealed class SystemdUnitTests : IDisposable
{
    private readonly TempDir _dir = new("ahm-units");

    public void Dispose() => _dir.Dispose();

    [NeedsProgramFact("systemd-analyze")]
    public async Task UnitsVerifyWithoutWarnings()
    {
        var units = new List<string>();
        foreach (var unit in Directory.GetFiles(PackagingTree.At("systemd"), "*.service"))
        {
            var copy = _dir.Combine(Path.GetFileName(unit));
            var text = (await File.ReadAllTextAsync(unit)).Replace("/usr/bin/ahm-daemon", "/bin/true", StringComparison.Ordinal).Replace("/usr/bin/ahm-coordinator", "/bin/true", StringComparison.Ordinal);
            await File.WriteAllTextAsync(copy, text);
            units.Add(copy);
        }

        Assert.Equal(2, units.Count);
        var result = await ExternalProcess.RunAsync("systemd-analyze", ["verify", .. units], timeout: TimeSpan.FromSeconds(60));
        Assert.True(result.ExitCode == 0, $"systemd-analyze verify:\n{result.Stdout}{result.Stderr}");
        // Unknown keys and bad values are only warnings (exit 0) for systemd; they are mistakes for us.
        var ours = (result.Stdout + result.Stderr).Split('\n').Where(line => line.Contains(_dir.Path, StringComparison.Ordinal) || line.Contains(".service:", StringComparison.Ordinal)).ToList();
        Assert.True(ours.Count == 0, "systemd-analyze warned:\n" + string.Join('\n', ours));
    }
}
