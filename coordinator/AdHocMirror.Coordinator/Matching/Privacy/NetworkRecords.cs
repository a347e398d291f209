namespace AdHocMirror.Coordinator.Matching.Privacy;

/// <summary>
/// One record per client network for both the rate limit and the reveal budget, in one bounded table
/// (<see cref="NetworkTable{T, TItem}"/>): a network new to the window costs one record and one eviction, not one in
/// each, and a FindMirror answer finds its network's record once (the rate limit's lookup hands its place to the
/// budget). The volunteers a network was shown are the record's items.
/// </summary>
public sealed class NetworkRecords
{
    public NetworkRecords(PrivacyOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.RevealBudget > RevealBudget.MaxBudget)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.RevealBudget, $"the reveal budget is at most {RevealBudget.MaxBudget}");
        }

        Table = new(options.MaxNetworks, Math.Max(1, options.RevealBudget));
    }

    internal NetworkTable<NetworkRecord, string?> Table { get; }

    /// <summary>Networks remembered in the current window.</summary>
    public int Count => Table.Count;

    /// <summary>Networks forgotten because <see cref="PrivacyOptions.MaxNetworks"/> were remembered.</summary>
    public long Evicted => Table.Evicted;
}

/// <summary>One network in one window: its rate-limit bucket, how many volunteers it was shown (in the table's items) and which of them failed for it.</summary>
internal struct NetworkRecord
{
    /// <summary>Calls left; a record new to the window (never asked) has <see cref="Updated"/> 0, so it starts full.</summary>
    public double Tokens;

    /// <summary>When <see cref="Tokens"/> were counted (UTC ticks).</summary>
    public long Updated;

    public int Count;
    public ulong Failed;
}
