using AdHocMirror.Coordinator.Matching.Privacy;

namespace AdHocMirror.Coordinator.Tests.Matching.Privacy;

/// <summary>The table's position hint: a stale one never hands one network another's entry.</summary>
public sealed class NetworkTableTests
{
    private const int NoSlot = NetworkTable<int, string?>.NoSlot;

    // Tags ending in the same 4 bits share a shard; 16 places are one per shard, so the second network evicts the first.
    private static readonly ClientNetwork A = new(1, 0x10, 0);
    private static readonly ClientNetwork B = new(1, 0x20, 0);

    [Fact]
    public void A_hint_finds_the_same_entry_again()
    {
        var table = new NetworkTable<int, string?>(capacity: 16, stride: 1);
        var at = NoSlot;
        Assert.True(Write(table, A, ref at, 7, "a").Fresh);
        Assert.NotEqual(NoSlot, at);

        var hinted = at;
        Assert.Equal((false, 7, "a"), Write(table, A, ref at, 8, "a"));
        Assert.Equal(hinted, at);
        var lookedUp = NoSlot;
        Assert.Equal((false, 8, "a"), Write(table, A, ref lookedUp, 8, "a"));
        Assert.Equal(hinted, lookedUp);
    }

    [Fact]
    public void A_hint_to_a_place_given_to_another_network_finds_a_new_entry()
    {
        var table = new NetworkTable<int, string?>(capacity: 16, stride: 1);
        var atA = NoSlot;
        Write(table, A, ref atA, 7, "a");
        var atB = NoSlot;
        Assert.True(Write(table, B, ref atB, 9, "b").Fresh);
        Assert.Equal(atA, atB); // A forgotten, its place B's
        Assert.Equal(1, table.Evicted);

        // A with its stale hint: not B's entry, but a new one of its own (which in turn evicts B).
        Assert.Equal((true, 0, null), Write(table, A, ref atA, 3, "a"));
        var again = atB;
        Assert.Equal((true, 0, null), Write(table, B, ref again, 9, "b"));
    }

    [Fact]
    public void A_hint_from_another_window_finds_a_new_entry()
    {
        var table = new NetworkTable<int, string?>(capacity: 32, stride: 1);
        var at = NoSlot;
        Write(table, A, ref at, 7, "a");
        var stale = at;

        // A new window: another network takes the first place; one with A's tag (the same secret) and the old hint gets its own.
        var other = NoSlot;
        Assert.True(Write(table, B with { Window = 2 }, ref other, 9, "b").Fresh);
        Assert.Equal(stale, other);
        Assert.Equal((true, 0, null), Write(table, A with { Window = 2 }, ref at, 5, "a"));
        Assert.NotEqual(stale, at);
        Assert.Equal((false, 9, "b"), Write(table, B with { Window = 2 }, ref other, 9, "b"));

        // A new window no network has used yet: the hint points at nothing filled.
        var early = at;
        Assert.Equal((true, 0, null), Write(table, A with { Window = 3 }, ref early, 1, "a"));
    }

    [Fact]
    public void A_hint_of_another_network_is_not_taken_for_its_own()
    {
        var table = new NetworkTable<int, string?>(capacity: 32, stride: 1);
        var atA = NoSlot;
        Write(table, A, ref atA, 7, "a");
        var hint = atA;
        Assert.True(Write(table, B, ref hint, 9, "b").Fresh);
        Assert.NotEqual(atA, hint);
        Assert.Equal((false, 7, "a"), Write(table, A, ref atA, 7, "a"));

        // Another shard: the same index there is someone else's place, or nobody's.
        var elsewhere = atA;
        Assert.True(Write(table, new ClientNetwork(1, 0x11, 0), ref elsewhere, 1, "c").Fresh);
    }

    [Fact]
    public void The_budget_revealing_from_a_stale_place_counts_for_its_own_network()
    {
        var budget = new RevealBudget(new PrivacyOptions { RevealBudget = 2, MaxNetworks = 16 });
        var slot = budget.View(A).Slot;
        Assert.True(budget.TryReveal(B, "b1")); // A forgotten, its place B's
        Assert.True(budget.TryReveal(A, ref slot, "a1"));
        Assert.Equal(["a1"], budget.View(A).Known);
        Assert.True(budget.TryReveal(A, ref slot, "a2"));
        Assert.False(budget.TryReveal(A, ref slot, "a3"));
        Assert.True(budget.View(A).IsSpent);
        Assert.Empty(budget.View(B).Known); // forgotten by A's return, never given A's
    }

    [Fact]
    public void Many_networks_coming_and_going_find_what_a_plain_model_of_it_remembers()
    {
        // 8 places per shard for 400 networks: most calls evict, and homes collide in the index all the time.
        const int PerShard = 8;
        var table = new NetworkTable<int, string?>(capacity: 16 * PerShard, stride: 1);
        var random = new Random(5);
        var tags = Enumerable.Range(0, 400).Select(_ => new UInt128((ulong)random.NextInt64(), (ulong)random.NextInt64())).ToArray();
        var hints = new int[tags.Length];
        Array.Fill(hints, NoSlot);
        var model = Enumerable.Range(0, 16).Select(_ => (Values: new Dictionary<UInt128, int>(), Order: new Queue<UInt128>(), Window: 0L)).ToArray();
        var window = 1L;
        for (var call = 0; call < 50_000; call++)
        {
            if (call % 10_000 == 9_999)
            {
                window++;
            }

            var n = random.Next(tags.Length);
            var network = new ClientNetwork(window, tags[n], 0);
            var shard = model[(int)(tags[n] & 15)];
            if (shard.Window != window)
            {
                shard = model[(int)(tags[n] & 15)] = (new Dictionary<UInt128, int>(), new Queue<UInt128>(), window);
            }

            var known = shard.Values.TryGetValue(tags[n], out var value);
            if (!known)
            {
                if (shard.Order.Count == PerShard)
                {
                    shard.Values.Remove(shard.Order.Dequeue());
                }

                shard.Order.Enqueue(tags[n]);
            }

            shard.Values[tags[n]] = call;
            var hinted = random.Next(3) == 0 ? NoSlot : hints[random.Next(2) == 0 ? n : random.Next(tags.Length)];
            (bool, int, string?) expected = known ? (false, value, "n" + n) : (true, 0, null);
            Assert.Equal(expected, Write(table, network, ref hinted, call, "n" + n));
            hints[n] = hinted;
        }
    }

    /// <summary>Reads the entry (value, first item, whether new), then stores <paramref name="value"/> and <paramref name="item"/> in it.</summary>
    private static (bool Fresh, int Value, string? Item) Write(NetworkTable<int, string?> table, ClientNetwork network, ref int at, int value, string item) =>
        table.With(network, ref at, (Value: value, Item: item), static (ref entry, items, fresh, state) =>
        {
            var was = (fresh, entry, items[0]);
            entry = state.Value;
            items[0] = state.Item;
            return was;
        });
}
