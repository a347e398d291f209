using AdHocMirror.Tree.Versions;

namespace AdHocMirror.Tree.Tests.Versions;

public sealed class RollbackGuardTests
{
    private static readonly TreeVersion Old = TreeVersion.FromManifestTimestamp("2026-11-20T00:00:00Z");
    private static readonly TreeVersion Mid = TreeVersion.FromManifestTimestamp("2026-11-21T00:00:00Z");
    private static readonly TreeVersion New = TreeVersion.FromManifestTimestamp("2026-11-22T00:00:00Z");

    [Fact]
    public void Accepts_newer_or_equal_trees()
    {
        Assert.True(RollbackGuard.Check(New, Mid, Mid).Accepted);
        Assert.True(RollbackGuard.Check(Mid, Mid, Mid).Accepted);
        Assert.True(RollbackGuard.Check(Old, null, null).Accepted);
    }

    [Fact]
    public void Refuses_a_tree_older_than_the_current_one()
    {
        var verdict = RollbackGuard.Check(Old, Mid, null);
        Assert.False(verdict.Accepted);
        Assert.StartsWith("rollback", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Refuses_a_tree_older_than_promised()
    {
        var verdict = RollbackGuard.Check(Mid, Old, New);
        Assert.False(verdict.Accepted);
        Assert.StartsWith("freeze", verdict.Reason, StringComparison.Ordinal);
    }
}
