namespace AdHocMirror.Tree.Versions;

/// <summary>The outcome of <see cref="RollbackGuard.Check"/>: accepted, or refused with a reason.</summary>
public sealed record FreshnessVerdict(bool Accepted, string? Reason)
{
    public static readonly FreshnessVerdict Accept = new(true, null);
}

/// <summary>
/// Refuses validly signed but old trees (DESIGN.md "Freeze and rollback"): a candidate older than the tree
/// already in place is a rollback; one older than the version promised for its source (the coordinator's
/// advertised version for that mirror) is a freeze or a lie. Either is treated like a corrupt tree.
/// Equal times are accepted: re-syncing the same version is harmless.
/// </summary>
public static class RollbackGuard
{
    public static FreshnessVerdict Check(TreeVersion candidate, TreeVersion? current, TreeVersion? promised)
    {
        if (current is { } have && candidate.IsOlderThan(have))
        {
            return new FreshnessVerdict(false, $"rollback: verified tree {candidate} is older than the current tree {have}");
        }

        if (promised is { } advertised && candidate.IsOlderThan(advertised))
        {
            return new FreshnessVerdict(false, $"freeze: verified tree {candidate} is older than the promised version {advertised}");
        }

        return FreshnessVerdict.Accept;
    }
}
