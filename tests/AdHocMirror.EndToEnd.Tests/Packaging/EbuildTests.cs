using System.Text.Json;
using System.Xml.Linq;
using AdHocMirror.Testing;

namespace AdHocMirror.EndToEnd.Tests.Packaging;

/// <summary>The overlay under openrc/overlay: bash syntax of each ebuild, the variables Portage reads, layout and metadata.xml.</summary>
public sealed class EbuildTests
{
    private static string MainEbuild => Path.Combine(PackagingTree.Overlay, "app-portage", "adhocmirror", "adhocmirror-0.1.0.ebuild");

    [Fact]
    public async Task EveryEbuildIsValidBash()
    {
        var ebuilds = PackagingTree.Ebuilds();
        Assert.Equal(5, ebuilds.Count);
        foreach (var ebuild in ebuilds)
        {
            var result = await ExternalProcess.RunAsync("bash", ["-n", ebuild]);
            Assert.True(result.ExitCode == 0, $"bash -n {PackagingTree.Relative(ebuild)}:\n{result.Stderr}");
        }
    }

    [Fact]
    public async Task MainEbuild_Eapi8_BothFlags_DaemonDependenciesUnderAhm()
    {
        var vars = await EbuildVariables.ReadAsync(MainEbuild);
        Assert.Equal("8", vars["EAPI"]);
        var iuse = vars["IUSE"].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("ahm", iuse);
        Assert.Contains("coordinator", iuse);
        Assert.Equal("0", vars["SLOT"]);
        Assert.False(string.IsNullOrWhiteSpace(vars["DESCRIPTION"]));
        Assert.False(string.IsNullOrWhiteSpace(vars["LICENSE"]));

        var rdepend = vars["RDEPEND"];
        var ahm = DependencyGroup(rdepend, "ahm?");
        Assert.Contains("net-misc/rsync", ahm);
        Assert.Contains("dev-vcs/git", ahm);
        Assert.Contains("acct-user/ahm", ahm);
        Assert.Contains("acct-group/ahm", ahm);
        var coordinator = DependencyGroup(rdepend, "coordinator?");
        Assert.Contains("acct-user/ahm-coordinator", coordinator);
        Assert.Contains("acct-group/ahm-coordinator", coordinator);

        // Built offline from the NUGETS distfiles: no network sandbox exception.
        Assert.DoesNotContain("network-sandbox", vars["RESTRICT"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task MainEbuild_TargetsTheFrameworkTheProjectsBuildFor()
    {
        var vars = await EbuildVariables.ReadAsync(MainEbuild);
        var props = XDocument.Load(Path.Combine(PackagingTree.Repository, "Directory.Build.props"));
        var framework = props.Descendants("TargetFramework").Single().Value;
        Assert.Equal("net" + vars["DOTNET_PKG_COMPAT"], framework);
        var version = props.Descendants("Version").Single().Value;
        Assert.EndsWith($"-{version}.ebuild", MainEbuild, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MainEbuild_ListsEveryNuGetPackageTheProgramsRestore()
    {
        var vars = await EbuildVariables.ReadAsync(MainEbuild);
        var listed = vars["NUGETS"].Split((char[])[' ', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
        string[] projects = ["ahm-daemon/AdHocMirror.Daemon", "coordinator/AdHocMirror.Coordinator", "sync-client/AdHocMirror.Sync", "protos"];
        var checkedAny = false;
        foreach (var project in projects)
        {
            var assets = Path.Combine(PackagingTree.Repository, project, "obj", "project.assets.json");
            if (!File.Exists(assets))
            {
                continue; // not restored in this checkout; the others still check the list
            }

            checkedAny = true;
            using var json = JsonDocument.Parse(File.ReadAllBytes(assets));
            foreach (var library in json.RootElement.GetProperty("libraries").EnumerateObject())
            {
                if (library.Value.GetProperty("type").GetString() == "package")
                {
                    var nuget = library.Name.ToLowerInvariant().Replace('/', '@');
                    Assert.True(listed.Contains(nuget), $"{project} restores {nuget}, which NUGETS in the ebuild does not list");
                }
            }
        }

        Assert.True(checkedAny, "no restored project.assets.json to compare NUGETS with");
    }

    [Fact]
    public void MainEbuild_InstallsFilesThatExist()
    {
        var text = File.ReadAllText(MainEbuild);
        var paths = System.Text.RegularExpressions.Regex.Matches(text, @"\bopenrc/[A-Za-z0-9._/-]+").Select(m => m.Value).Distinct().ToList();
        Assert.Contains("openrc/init.d/ahm-daemon", paths);
        Assert.Contains("openrc/conf.d/ahm-daemon", paths);
        Assert.Contains("openrc/init.d/ahm-coordinator", paths);
        Assert.Contains("openrc/conf.d/ahm-coordinator", paths);
        Assert.Contains("openrc/daemon.conf.example", paths);
        Assert.All(paths, path => Assert.True(File.Exists(Path.Combine(PackagingTree.Repository, path)), $"the ebuild installs {path}, which does not exist"));
    }

    [Theory]
    [InlineData("acct-user", "ahm")]
    [InlineData("acct-user", "ahm-coordinator")]
    [InlineData("acct-group", "ahm")]
    [InlineData("acct-group", "ahm-coordinator")]
    public async Task AccountPackagesExist(string category, string name)
    {
        var ebuild = Path.Combine(PackagingTree.Overlay, category, name, name + "-0.ebuild");
        var vars = await EbuildVariables.ReadAsync(ebuild);
        Assert.Equal("8", vars["EAPI"]);
        Assert.Equal("-1", vars[category == "acct-user" ? "ACCT_USER_ID" : "ACCT_GROUP_ID"]);
        if (category == "acct-user")
        {
            Assert.Equal(name, vars["ACCT_USER_GROUPS"]);
        }
    }

    [Fact]
    public void OverlayLayout()
    {
        Assert.Equal("adhocmirror", File.ReadAllText(Path.Combine(PackagingTree.Overlay, "profiles", "repo_name")).Trim());
        var layout = File.ReadAllLines(Path.Combine(PackagingTree.Overlay, "metadata", "layout.conf"))
            .Select(line => line.Split('=', 2, StringSplitOptions.TrimEntries))
            .Where(pair => pair.Length == 2)
            .ToDictionary(pair => pair[0], pair => pair[1]);
        Assert.Equal("gentoo", layout["masters"]);
    }

    [Fact]
    public void EveryMetadataXmlIsWellFormed_AndTheMainOneDescribesBothFlags()
    {
        var files = Directory.GetFiles(PackagingTree.Overlay, "metadata.xml", SearchOption.AllDirectories);
        Assert.Equal(5, files.Length);
        foreach (var file in files)
        {
            Assert.Equal("pkgmetadata", XDocument.Load(file).Root!.Name.LocalName);
        }

        var main = XDocument.Load(Path.Combine(PackagingTree.Overlay, "app-portage", "adhocmirror", "metadata.xml"));
        var flags = main.Descendants("use").Single().Elements("flag").ToDictionary(f => f.Attribute("name")!.Value, f => f.Value);
        Assert.Equal(["ahm", "coordinator"], flags.Keys.Order());
        Assert.Contains("rsync", flags["ahm"], StringComparison.Ordinal);
        Assert.Contains("ahm-coordinator", flags["coordinator"], StringComparison.Ordinal);
    }

    /// <summary>The atoms inside <c>flag? ( … )</c>, nested groups flattened.</summary>
    private static List<string> DependencyGroup(string dependencies, string conditional)
    {
        var tokens = dependencies.Split((char[])[' ', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries);
        var start = Array.IndexOf(tokens, conditional);
        Assert.True(start >= 0 && tokens[start + 1] == "(", $"no '{conditional} (' group in:\n{dependencies}");
        var atoms = new List<string>();
        var depth = 0;
        for (var i = start + 1; i < tokens.Length; i++)
        {
            depth += tokens[i] switch { "(" => 1, ")" => -1, _ => 0 };
            if (depth == 0)
            {
                return atoms;
            }

            if (tokens[i] is not ("(" or ")") && !tokens[i].EndsWith('?'))
            {
                atoms.Add(tokens[i]);
            }
        }

        throw new InvalidOperationException($"unbalanced '{conditional}' group");
    }
}

/// <summary>Sources an ebuild in bash with the eclass functions stubbed, as Portage's metadata phase would, and reads its variables.</summary>
internal static class EbuildVariables
{
    private static readonly string[] Names =
        ["EAPI", "IUSE", "SLOT", "DESCRIPTION", "LICENSE", "RDEPEND", "BDEPEND", "RESTRICT", "NUGETS", "DOTNET_PKG_COMPAT", "ACCT_USER_ID", "ACCT_GROUP_ID", "ACCT_USER_GROUPS"];

    public static async Task<IReadOnlyDictionary<string, string>> ReadAsync(string ebuild)
    {
        var file = Path.GetFileNameWithoutExtension(ebuild);
        var pn = Path.GetFileName(Path.GetDirectoryName(ebuild))!;
        var script = $$"""
            set -e
            inherit() { :; }
            acct-user_add_deps() { :; }
            P='{{file}}' PN='{{pn}}' PV='{{file[(pn.Length + 1)..]}}' S=/nonexistent WORKDIR=/nonexistent
            source "$1"
            for name in {{string.Join(' ', Names)}}; do
              value="$(eval "printf '%s' \"\${${name}[*]}\"")"
              printf '%s\0%s\0' "$name" "$value"
            done
            """;
        var result = await ExternalProcess.RunAsync("bash", ["-c", script, "ebuild", ebuild]);
        result.EnsureSuccess($"sourcing {ebuild}");
        var parts = result.Stdout.Split('\0');
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < parts.Length; i += 2)
        {
            values[parts[i]] = parts[i + 1].Trim();
        }

        return values;
    }
}
