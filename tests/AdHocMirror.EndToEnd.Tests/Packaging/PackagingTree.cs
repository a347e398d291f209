using AdHocMirror.Testing;

namespace AdHocMirror.EndToEnd.Tests.Packaging;

/// <summary>Finds openrc/ (init scripts, conf.d, systemd units, overlay) in the checkout the tests were built from.</summary>
internal static class PackagingTree
{
    private static readonly Lazy<string> Root = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "AdHocMirror.sln")) && Directory.Exists(Path.Combine(dir.FullName, "openrc")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"no checkout with AdHocMirror.sln and openrc/ above {AppContext.BaseDirectory}");
    });

    public static string Repository => Root.Value;

    public static string OpenRc => Path.Combine(Root.Value, "openrc");

    public static string Overlay => Path.Combine(OpenRc, "overlay");

    public static string At(params string[] parts) => Path.Combine([OpenRc, .. parts]);

    /// <summary>Every shell script under openrc/: init scripts, conf.d files and any *.sh (ebuilds are checked as bash by <see cref="EbuildTests"/>).</summary>
    public static IReadOnlyList<string> ShellScripts() =>
        Directory.EnumerateFiles(OpenRc, "*", SearchOption.AllDirectories)
            .Where(path => !path.StartsWith(Overlay + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            .Where(path => Path.GetFileName(Path.GetDirectoryName(path)) is "init.d" or "conf.d" || path.EndsWith(".sh", StringComparison.Ordinal) || IsShebangShell(path))
            .Order(StringComparer.Ordinal)
            .ToList();

    public static IReadOnlyList<string> Ebuilds() =>
        Directory.EnumerateFiles(Overlay, "*.ebuild", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();

    public static string Relative(string path) => Path.GetRelativePath(Repository, path);

    private static bool IsShebangShell(string path)
    {
        using var reader = new StreamReader(path);
        var first = reader.ReadLine() ?? string.Empty;
        return first.StartsWith("#!", StringComparison.Ordinal) && (first.Contains("sh", StringComparison.Ordinal) || first.Contains("openrc-run", StringComparison.Ordinal));
    }
}

/// <summary>A test that needs a program; skipped, naming it, where it is not installed.</summary>
public sealed class NeedsProgramFactAttribute : FactAttribute
{
    public NeedsProgramFactAttribute(string program)
    {
        if (!ExternalProcess.Exists(program))
        {
            Skip = $"{program} is not installed (scripts/setup.sh installs it)";
        }
    }
}
