namespace AdHocMirror.Testing.Leftovers;

/// <summary>
/// This test process's run: a marker put in its environment before any test starts, so every process a test starts
/// (and every process those start: the daemon's rsync, gpg's agent) carries it and can be found at the end; and the
/// clean-ups of what the run shares (the shared signing key's agent), done before that check.
/// </summary>
public static class TestRun
{
    public const string MarkerVariable = "AHM_TEST_RUN";

    private static readonly List<Action> AtEndActions = [];

    static TestRun()
    {
        Id = Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(MarkerVariable, Id);
    }

    public static string Id { get; }

    /// <summary>Puts the marker in this process's environment (idempotent); children started afterwards inherit it.</summary>
    public static void Mark() => _ = Id;

    /// <summary>Registers <paramref name="cleanup"/> to run once the tests are done, before leftovers are looked for.</summary>
    public static void AtEnd(Action cleanup)
    {
        lock (AtEndActions)
        {
            AtEndActions.Add(cleanup);
        }
    }

    internal static void RunAtEnd()
    {
        Action[] actions;
        lock (AtEndActions)
        {
            actions = [.. AtEndActions];
            AtEndActions.Clear();
        }

        foreach (var action in actions)
        {
            action();
        }
    }
}
