using AdHocMirror.Testing;

namespace AdHocMirror.EndToEnd.Tests.Packaging;

/// <summary>
/// Runs an init script the way openrc-run does (conf.d sourced first, then the script, in POSIX sh) but with openrc's
/// helpers stubbed to print what they were asked, so the command line, dependencies and start_pre can be checked on
/// any machine, root or not.
/// </summary>
internal static class InitScriptShell
{
    public sealed record Outcome(IReadOnlyDictionary<string, string> Variables, IReadOnlyList<string> Calls, int StartPreStatus, string Errors)
    {
        public IReadOnlyList<string> Words(string variable) => Variables[variable].Split(' ', StringSplitOptions.RemoveEmptyEntries);
    }

    public static async Task<Outcome> RunAsync(string service, IDictionary<string, string> environment)
    {
        const string script = """
            RC_SVCNAME="$1"
            need() { echo "call need $*"; }
            use() { echo "call use $*"; }
            after() { echo "call after $*"; }
            before() { echo "call before $*"; }
            checkpath() { echo "call checkpath $*"; }
            eerror() { echo "$*" >&2; }
            ewarn() { echo "$*" >&2; }
            einfo() { :; }
            . "$2"
            . "$3"
            for name in supervisor command command_args command_user pidfile retry respawn_delay respawn_max respawn_period output_log error_log extra_started_commands; do
              eval "printf 'var %s=%s\n' \"\$name\" \"\$${name}\""
            done
            depend
            start_pre
            echo "start_pre $?"
            """;
        var result = await ExternalProcess.RunAsync(
            "sh", ["-c", script, "sh", service, PackagingTree.At("conf.d", service), PackagingTree.At("init.d", service)], environment: environment);
        Assert.True(result.ExitCode == 0, $"sh exited {result.ExitCode}: {result.Stderr}");
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        var calls = new List<string>();
        var status = -1;
        foreach (var line in result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.StartsWith("var ", StringComparison.Ordinal))
            {
                var pair = line[4..].Split('=', 2);
                variables[pair[0]] = pair[1].Trim();
            }
            else if (line.StartsWith("call ", StringComparison.Ordinal))
            {
                calls.Add(line[5..]);
            }
            else if (line.StartsWith("start_pre ", StringComparison.Ordinal))
            {
                status = int.Parse(line[10..], System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return new Outcome(variables, calls, status, result.Stderr);
    }
}
