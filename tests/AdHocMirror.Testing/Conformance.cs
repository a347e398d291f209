namespace AdHocMirror.Testing;

/// <summary>
/// The conformance fixtures made by reference tools (shared/fixtures), found through
/// <c>AHM_CONFORMANCE_DIR</c>. Tests that need them are skipped, saying so, when it is unset.
/// </summary>
public static class Conformance
{
    public const string Variable = "AHM_CONFORMANCE_DIR";

    public static string? Directory
    {
        get
        {
            var dir = Environment.GetEnvironmentVariable(Variable);
            return string.IsNullOrEmpty(dir) ? null : Path.GetFullPath(dir);
        }
    }

    public static string? SkipReason => Directory is null ? $"{Variable} is not set; conformance fixtures not available" : null;
}
