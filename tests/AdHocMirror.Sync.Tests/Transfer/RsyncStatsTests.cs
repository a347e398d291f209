using AdHocMirror.Sync.Transfer;

namespace AdHocMirror.Sync.Tests.Transfer;

public sealed class RsyncStatsTests
{
    // rsync 3.2's --stats as it prints them, with and without --human-readable's thousands separators.
    private const string Stats = """
        Number of files: 177,824 (reg: 150,006, dir: 27,818)
        Number of regular files transferred: 1,134
        Total file size: 70.13M bytes
        Total bytes received: 9826233
        Total bytes received (again): 5

        sent 41 bytes  received 9.83M bytes  2.19M bytes/sec
        """;

    [Theory]
    [InlineData("Number of regular files transferred", 1134)]
    [InlineData("Total bytes received", 9826233)]
    [InlineData("Number of created files", 0)]
    public void Reads_the_figure_of_the_line_that_names_it(string name, long expected) =>
        Assert.Equal(expected, RsyncTransfer.Stat(Stats, name));

    [Fact]
    public void A_line_that_only_begins_with_the_name_or_has_no_figure_reads_as_zero()
    {
        Assert.Equal(0, RsyncTransfer.Stat("Total bytes received (again): 5\n", "Total bytes received"));
        Assert.Equal(0, RsyncTransfer.Stat("Total bytes received: none\n", "Total bytes received"));
        Assert.Equal(0, RsyncTransfer.Stat(string.Empty, "Total bytes received"));
    }
}
