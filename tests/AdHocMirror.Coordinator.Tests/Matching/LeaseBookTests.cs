using AdHocMirror.Contracts.V1;
using AdHocMirror.Coordinator.Matching;
using AdHocMirror.Testing;

namespace AdHocMirror.Coordinator.Tests.Matching;

/// <summary>Leases as records in one array: ids that cannot be forged, expiry, late reports and the record cap.</summary>
public sealed class LeaseBookTests
{
    private static readonly TimeSpan Ttl = TimeSpan.FromMinutes(5);

    [Fact]
    public void A_report_names_its_lease_only_by_the_whole_id()
    {
        var (book, _) = Book();
        var slot = Slot(max: 5);
        var lease = book.TryTake(slot)!.Value;
        var id = Lease.Format(lease.Id);
        Assert.Matches("^[0-9a-f]{32}$", id);

        // Same record index, other random bits; not hex; wrong length: none of them is the lease.
        var forged = Lease.Format(lease.Id ^ ((UInt128)1 << 100));
        Assert.Null(book.Complete(forged));
        Assert.Null(book.Complete("g" + id[1..]));
        Assert.Null(book.Complete(id[..31]));
        Assert.Null(book.Complete("0123456789abcdef0123456789abcdef")); // a record index past int.MaxValue (the property tests found it)
        Assert.Null(book.Complete("ffffffffffffffffffffffff00001000")); // one past the records in use
        Assert.Equal(1, slot.Leases);

        Assert.Equal(lease, book.Complete(id));
        Assert.Equal(0, slot.Leases);
        Assert.Null(book.Complete(id)); // once only
        Assert.Equal(0, slot.Leases);
    }

    [Fact]
    public void A_reused_record_never_answers_to_the_id_of_the_lease_it_held_before()
    {
        var (book, _) = Book();
        var slot = Slot(max: 5);
        var first = book.TryTake(slot)!.Value;
        book.Complete(Lease.Format(first.Id));
        var second = book.TryTake(slot)!.Value;
        Assert.Equal((uint)first.Id, (uint)second.Id); // the same record, freed and reused
        Assert.NotEqual(first.Id, second.Id);
        Assert.Null(book.Complete(Lease.Format(first.Id)));
        Assert.Equal(1, slot.Leases);
    }

    [Fact]
    public void Ids_are_distinct_and_a_full_mirror_gets_no_lease()
    {
        var (book, _) = Book();
        var slot = Slot(max: 1000);
        var ids = Enumerable.Range(0, 1000).Select(_ => book.TryTake(slot)!.Value.Id).ToHashSet();
        Assert.Equal(1000, ids.Count);
        Assert.Null(book.TryTake(slot));
        Assert.Equal(1000, book.Held);
    }

    [Fact]
    public void Expiry_gives_the_place_back_once_and_a_late_report_still_counts_until_the_grace_ends()
    {
        var (book, clock) = Book();
        var slot = Slot(max: 2);
        var late = book.TryTake(slot)!.Value;
        var later = book.TryTake(slot)!.Value;
        Assert.Null(book.TryTake(slot));

        clock.Advance(Ttl);
        book.Sweep();
        Assert.Equal(0, slot.Leases);
        Assert.Equal(0, book.Held);
        Assert.Equal(2, book.Records);

        Assert.Equal(late, book.Complete(Lease.Format(late.Id)));
        Assert.Equal(0, slot.Leases); // not given back a second time

        clock.Advance(TimeSpan.FromHours(1));
        book.Sweep();
        Assert.Equal(0, book.Records);
        Assert.Null(book.Complete(Lease.Format(later.Id)));
    }

    [Fact]
    public void Past_the_record_cap_the_oldest_expired_records_go_first_and_held_ones_stay()
    {
        var (book, clock) = Book(maxRecords: 3);
        var slot = Slot(max: 100);
        var oldest = book.TryTake(slot)!.Value;
        clock.Advance(TimeSpan.FromMinutes(1));
        var old = Enumerable.Range(0, 3).Select(_ => book.TryTake(slot)!.Value).ToList();
        clock.Advance(Ttl);
        var held = Enumerable.Range(0, 2).Select(_ => book.TryTake(slot)!.Value).ToList();

        book.Sweep();
        Assert.Equal(2, book.Held);
        Assert.Equal(3, book.Records);
        Assert.Null(book.Complete(Lease.Format(oldest.Id)));
        Assert.Null(book.Complete(Lease.Format(old[0].Id)));
        Assert.NotNull(book.Complete(Lease.Format(held[0].Id)));
        Assert.NotNull(book.Complete(Lease.Format(held[1].Id)));
        Assert.Equal(0, slot.Leases);
    }

    [Fact]
    public void Past_the_record_cap_whole_seconds_of_the_oldest_expiries_go_and_the_newest_stay()
    {
        var (book, clock) = Book(maxRecords: 2_500);
        var slot = Slot(max: 1_000_000);
        var bySecond = new List<List<Lease>>();
        for (var second = 0; second < 100; second++)
        {
            bySecond.Add(Enumerable.Range(0, 100).Select(_ => book.TryTake(slot)!.Value).ToList());
            clock.Advance(TimeSpan.FromSeconds(1));
        }

        clock.Advance(Ttl);
        book.Sweep();

        Assert.Equal(0, book.Held);
        Assert.Equal(2_500, book.Records);
        Assert.All(bySecond.Take(75).SelectMany(l => l), lease => Assert.Null(book.Complete(Lease.Format(lease.Id))));
        Assert.All(bySecond.Skip(75).SelectMany(l => l), lease => Assert.NotNull(book.Complete(Lease.Format(lease.Id))));
        Assert.Equal(0, slot.Leases);
    }

    private static (LeaseBook Book, ManualClock Clock) Book(int maxRecords = 200_000)
    {
        var clock = new ManualClock();
        return (new LeaseBook(new MatchingOptions { LeaseTtl = Ttl, LateReportGrace = TimeSpan.FromHours(1), MaxLeaseRecords = maxRecords }, clock), clock);
    }

    private static MirrorSlot Slot(int max) => new("key", Protocol.Rsync) { MaxClients = max, Version = new TreeVersion { Protocol = Protocol.Rsync } };
}
