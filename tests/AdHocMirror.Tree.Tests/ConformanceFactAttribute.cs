using AdHocMirror.Testing;

namespace AdHocMirror.Tree.Tests;

/// <summary>A fact that needs the conformance fixtures; skipped, saying so, when AHM_CONFORMANCE_DIR is unset.</summary>
public sealed class ConformanceFactAttribute : FactAttribute
{
    public ConformanceFactAttribute()
    {
        if (Conformance.SkipReason is { } reason)
        {
            Skip = reason;
        }
    }
}
