using Xunit;

namespace AdHocMirror.Testing;

/// <summary>A fact that needs the conformance fixtures; skipped, saying so, when AHM_CONFORMANCE_DIR is unset.</summary>
public sealed class ConformanceFactAttribute : FactAttribute
{
    public ConformanceFactAttribute() => Skip = Conformance.SkipReason;
}

/// <summary>A theory over the conformance fixtures; skipped, saying so, when AHM_CONFORMANCE_DIR is unset.</summary>
public sealed class ConformanceTheoryAttribute : TheoryAttribute
{
    public ConformanceTheoryAttribute() => Skip = Conformance.SkipReason;
}

/// <summary>A fact about what only root does (switching user, chroot); skipped, saying so, for any other user.</summary>
public sealed class RootFactAttribute : FactAttribute
{
    public RootFactAttribute()
    {
        if (Environment.UserName != "root")
        {
            Skip = "needs root (the test suite runs as root in CI)";
        }
    }
}
