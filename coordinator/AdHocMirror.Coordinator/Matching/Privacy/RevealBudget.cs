namespace AdHocMirror.Coordinator.Matching.Privacy;

/// <summary>
/// How many distinct volunteers each client network has been shown in the current window, and which:
/// FindMirror shows a network those again (while they still serve it), and new ones only while its
/// budget lasts, so that asking again, more often or "from" elsewhere reveals nothing new. One that
/// failed for the network (its ReportSync said so) is not offered to it again in the window.
/// In memory only, bounded, in the networks' records shared with the rate limit (<see cref="NetworkRecords"/>);
/// official mirrors are not counted.
/// </summary>
public sealed class RevealBudget
{
    /// <summary>Failures are a bit per revealed volunteer.</summary>
    public const int MaxBudget = 64;

    private readonly NetworkTable<NetworkRecord, string?> _networks;
    private readonly NetworkRecords _records;
    private readonly PrivacyOptions _options;

    public RevealBudget(PrivacyOptions options, NetworkRecords records)
    {
        ArgumentNullException.ThrowIfNull(records);
        _options = options;
        _records = records;
        _networks = records.Table;
    }

    /// <summary>With a table of its own (tests, tools).</summary>
    public RevealBudget(PrivacyOptions options)
        : this(options, new NetworkRecords(options))
    {
    }

    public bool Enabled => _options.RevealBudget > 0;

    /// <summary>Networks remembered in the current window (shared with the rate limit).</summary>
    public int Networks => _records.Count;

    /// <summary>Networks forgotten because <see cref="PrivacyOptions.MaxNetworks"/> were remembered.</summary>
    public long Evicted => _records.Evicted;

    /// <summary>What the network was shown this window (a full budget when nothing yet), and where its record is.</summary>
    public Reveals View(ClientNetwork network) => View(network, NetworkTable<NetworkRecord, string?>.NoSlot);

    /// <summary>As <see cref="View(ClientNetwork)"/>, from where the network's record was (the rate limit's lookup).</summary>
    internal Reveals View(ClientNetwork network, int slot)
    {
        var (known, failed, spent) = _networks.With(network, ref slot, _options.RevealBudget, static (ref record, shown, _, budget) =>
        {
            // One copy, none for a network that was shown nothing: this runs on every answer.
            var known = record.Count == 0 ? [] : new string[record.Count];
            for (var i = 0; i < known.Length; i++)
            {
                known[i] = shown[i]!;
            }

            return (known, record.Failed, record.Count >= budget);
        });
        return new Reveals(known, failed, spent, slot);
    }

    /// <summary>Counts <paramref name="keyId"/> as revealed to the network; false when its budget is spent (or the volunteer failed for it).</summary>
    public bool TryReveal(ClientNetwork network, string keyId)
    {
        var slot = NetworkTable<NetworkRecord, string?>.NoSlot;
        return TryReveal(network, ref slot, keyId);
    }

    /// <summary>As <see cref="TryReveal(ClientNetwork, string)"/>, from where the network's record was (<see cref="Reveals.Slot"/>), which it updates.</summary>
    internal bool TryReveal(ClientNetwork network, ref int slot, string keyId) => _networks.With(network, ref slot, (KeyId: keyId, Budget: _options.RevealBudget), static (ref record, shown, _, state) =>
    {
        var at = IndexOf(shown, record.Count, state.KeyId);
        if (at >= 0)
        {
            return (record.Failed & (1UL << at)) == 0;
        }

        if (record.Count >= state.Budget)
        {
            return false;
        }

        shown[record.Count++] = state.KeyId;
        return true;
    });

    /// <summary>The client's sync with <paramref name="keyId"/> failed: not offered to its network again this window.</summary>
    public void RecordFailure(ClientNetwork network, string keyId) => _networks.With(network, keyId, static (ref record, shown, _, keyId) =>
    {
        var at = IndexOf(shown, record.Count, keyId);
        if (at >= 0)
        {
            record.Failed |= 1UL << at;
        }

        return 0;
    });

    private static int IndexOf(Span<string?> shown, int count, string keyId)
    {
        for (var i = 0; i < count; i++)
        {
            if (string.Equals(shown[i], keyId, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }
}

/// <summary>
/// A network's volunteers this window: all it was shown (failed ones too) in the order shown, which of them it may be
/// offered again, whether its budget is spent, and where its record is (so that revealing more finds it without a lookup).
/// </summary>
public readonly struct Reveals(string[] known, ulong failed, bool isSpent, int slot)
{
    public string[] Known => known;

    public bool IsSpent => isSpent;

    internal int Slot => slot;

    /// <summary>Whether <c>Known[i]</c> did not fail for the network.</summary>
    public bool IsUsable(int i) => (failed & (1UL << i)) == 0;

    public bool IsKnown(string keyId) => Array.IndexOf(known, keyId) >= 0;
}
