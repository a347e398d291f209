namespace AdHocMirror.Coordinator.Matching.Privacy;

/// <summary>
/// How many distinct volunteers each client network has been shown in the current window, and which:
/// FindMirror shows a network those again (while they still serve it), and new ones only while its
/// budget lasts, so that asking again, more often or "from" elsewhere reveals nothing new. One that
/// failed for the network (its ReportSync said so) is not offered to it again in the window.
/// In memory only, bounded (see <see cref="NetworkTable{T}"/>); official mirrors are not counted.
/// </summary>
public sealed class RevealBudget(PrivacyOptions options)
{
    private readonly NetworkTable<NetworkReveals> _networks = new(options.MaxNetworks);

    public bool Enabled => options.RevealBudget > 0;

    public int Budget => options.RevealBudget;

    /// <summary>Networks remembered in the current window.</summary>
    public int Networks => _networks.Count;

    /// <summary>Networks forgotten because <see cref="PrivacyOptions.MaxNetworks"/> were remembered.</summary>
    public long Evicted => _networks.Evicted;

    /// <summary>The network's record in its window (a new one with a full budget when it has none).</summary>
    public NetworkReveals For(ClientNetwork network) =>
        _networks.GetOrAdd(network, static (n, budget) => new NetworkReveals(budget, n.Seed), options.RevealBudget);

    /// <summary>The client's sync with <paramref name="keyId"/> failed: not offered to its network again this window.</summary>
    public void RecordFailure(ClientNetwork network, string keyId) => _networks.Find(network)?.Fail(keyId);
}

/// <summary>One network's volunteers in one window: those revealed (at most the budget) and those that failed for it.</summary>
public sealed class NetworkReveals(int budget, ulong seed)
{
    private readonly Lock _gate = new();
    private readonly string[] _revealed = new string[budget];
    private int _count;
    private List<string>? _failed;

    /// <summary>Keys this network's stable choice among equally near volunteers.</summary>
    public ulong Seed { get; } = seed;

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _count;
            }
        }
    }

    public bool IsSpent
    {
        get
        {
            lock (_gate)
            {
                return _count >= _revealed.Length;
            }
        }
    }

    /// <summary>The volunteers revealed so far, first revealed first, without those that failed for it.</summary>
    public string[] Usable()
    {
        lock (_gate)
        {
            if (_count == 0)
            {
                return [];
            }

            var usable = new List<string>(_count);
            for (var i = 0; i < _count; i++)
            {
                if (_failed is null || !_failed.Contains(_revealed[i]))
                {
                    usable.Add(_revealed[i]);
                }
            }

            return [.. usable];
        }
    }

    public bool IsKnown(string keyId)
    {
        lock (_gate)
        {
            return Array.IndexOf(_revealed, keyId, 0, _count) >= 0 || (_failed?.Contains(keyId) ?? false);
        }
    }

    /// <summary>Counts <paramref name="keyId"/> as revealed; false when the budget is spent (or it failed for the network).</summary>
    public bool TryReveal(string keyId)
    {
        lock (_gate)
        {
            if (_failed?.Contains(keyId) == true)
            {
                return false;
            }

            if (Array.IndexOf(_revealed, keyId, 0, _count) >= 0)
            {
                return true;
            }

            if (_count >= _revealed.Length)
            {
                return false;
            }

            _revealed[_count++] = keyId;
            return true;
        }
    }

    public void Fail(string keyId)
    {
        lock (_gate)
        {
            if (Array.IndexOf(_revealed, keyId, 0, _count) >= 0 && !(_failed?.Contains(keyId) ?? false))
            {
                (_failed ??= []).Add(keyId);
            }
        }
    }
}
