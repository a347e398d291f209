using AdHocMirror.EndToEnd.Tests.Portage;
using AdHocMirror.Testing;

namespace AdHocMirror.EndToEnd.Tests.Packaging;

/// <summary>
/// The main ebuild's src_install, run in bash from the checkout with the eclass helpers it calls played as the
/// python-r1 and dotnet-pkg eclasses do (every PYTHON_COMPAT implementation in turn; python_moduleinto relative to
/// site-packages; python_domodule copying files and directories there), into a scratch image directory.
/// </summary>
public sealed class EbuildInstallTests
{
    private static string MainEbuild => Path.Combine(PackagingTree.Overlay, "app-portage", "adhocmirror", "adhocmirror-0.1.0.ebuild");

    [Fact]
    public async Task The_portage_sync_module_is_installed_into_portages_module_path_for_every_python()
    {
        using var image = new TempDir("ahm-ebuild-image");
        var script = """
            set -e
            inherit() { :; }
            die() { echo "die: $*" >&2; exit 1; }
            use() { return 1; }
            einstalldocs() { :; }
            dotnet-pkg-base_install() { :; }
            dotnet-pkg-base_dolauncher() { :; }
            python_foreach_impl() {
              local impl
              for impl in "${PYTHON_COMPAT[@]}"; do
                EPYTHON=${impl/_/.} "$@"
                echo "impl ${impl/_/.}"
              done
            }
            python_moduleinto() { MODULE_DIR=$1; }
            python_domodule() {
              local dest="${D}/usr/lib/${EPYTHON}/site-packages/${MODULE_DIR}"
              mkdir -p "${dest}"
              cp -R "$@" "${dest}/"
            }
            P=adhocmirror-0.1.0 PN=adhocmirror PV=0.1.0 S=$PWD WORKDIR=$PWD
            source "$1"
            D=$2 src_install
            """;

        var run = await ExternalProcess.RunAsync("bash", ["-c", script, "ebuild", MainEbuild, image.Path], workingDirectory: PackagingTree.Repository);

        Assert.True(run.ExitCode == 0, $"src_install failed:\n{run.Stdout}{run.Stderr}");
        var implementations = run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("impl ", StringComparison.Ordinal)).Select(l => l[5..]).ToList();
        Assert.Contains("python3.11", implementations); // Debian's python3, which runs the reference portage in the tests
        var source = Path.Combine(PackagingTree.Repository, "sync-client", "portage", "ahm");
        var files = Directory.GetFiles(source, "*.py").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["__init__.py", "ahm.py", "settings.py"], files);
        foreach (var python in implementations)
        {
            // Portage loads sync modules from the package directory portage/sync/modules/NAME (see the reference copy's lib/).
            var installed = image.Combine("usr", "lib", python, "site-packages", "portage", "sync", "modules", "ahm");
            foreach (var file in files)
            {
                var path = Path.Combine(installed, file!);
                Assert.True(File.Exists(path), $"{python}: {file} is not installed at {installed}");
                Assert.Equal(File.ReadAllBytes(Path.Combine(source, file!)), File.ReadAllBytes(path));
            }
        }

        if (ReferencePortage.Directory is { } reference)
        {
            Assert.True(Directory.Exists(Path.Combine(reference, "lib", "portage", "sync", "modules", "rsync")), "portage keeps its sync modules in portage/sync/modules/");
        }
    }
}
