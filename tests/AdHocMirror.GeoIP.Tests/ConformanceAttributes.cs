using AdHocMirror.Testing;

namespace AdHocMirror.GeoIP.Tests;

/// <summary>A theory over the reference fixtures; skipped, saying why, when AHM_CONFORMANCE_DIR is unset.</summary>
public sealed class ConformanceTheoryAttribute : TheoryAttribute
{
    public ConformanceTheoryAttribute() => Skip = Conformance.SkipReason;
}
