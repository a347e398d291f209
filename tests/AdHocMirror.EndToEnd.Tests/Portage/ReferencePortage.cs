using AdHocMirror.EndToEnd.Tests.Packaging;
using AdHocMirror.Testing;

namespace AdHocMirror.EndToEnd.Tests.Portage;

/// <summary>
/// Portage from its source tree (shared/reference/portage), found through <c>AHM_REFERENCE_PORTAGE</c> or next to the
/// checkout as <c>../shared/reference/portage</c>. Tests that run it are skipped, saying so, without it.
/// </summary>
internal static class ReferencePortage
{
    public const string Variable = "AHM_REFERENCE_PORTAGE";

    /// <summary>Debian's python3: the reference README's interpreter (a pyenv shim earlier on PATH may lack the stdlib portage needs).</summary>
    public static string Python => File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

    public static string? Directory
    {
        get
        {
            var configured = Environment.GetEnvironmentVariable(Variable);
            var dir = string.IsNullOrEmpty(configured)
                ? Path.GetFullPath(Path.Combine(PackagingTree.Repository, "..", "shared", "reference", "portage"))
                : Path.GetFullPath(configured);
            return File.Exists(Path.Combine(dir, "bin", "emaint")) && System.IO.Directory.Exists(Path.Combine(dir, "lib", "portage", "sync", "modules")) ? dir : null;
        }
    }

    public static string? SkipReason =>
        Directory is null ? $"reference portage not found ({Variable} unset and no ../shared/reference/portage next to the checkout)"
        : !ExternalProcess.Exists(Python) ? "python3 is not installed (scripts/setup.sh installs it)"
        : !ExternalProcess.Exists("rsync") ? "rsync is not installed (scripts/setup.sh installs it)"
        : null;
}

/// <summary>A test that runs the reference portage; skipped, saying so, when it (or python3) is absent.</summary>
public sealed class PortageFactAttribute : FactAttribute
{
    public PortageFactAttribute() => Skip = ReferencePortage.SkipReason;
}
