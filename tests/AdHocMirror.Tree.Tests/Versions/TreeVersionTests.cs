using AdHocMirror.Tree.Versions;
using Contract = AdHocMirror.Contracts.V1;

namespace AdHocMirror.Tree.Tests.Versions;

public sealed class TreeVersionTests
{
    private static readonly DateTimeOffset Noon = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Newer_compares_time_only()
    {
        var older = new TreeVersion(Noon, "AAAA");
        var newer = new TreeVersion(Noon.AddSeconds(1), "0000");
        Assert.True(newer.IsNewerThan(older));
        Assert.True(older.IsOlderThan(newer));
        Assert.True(newer > older);
        Assert.Equal(0, new TreeVersion(Noon, "a").CompareTo(new TreeVersion(Noon, "b")));
        Assert.NotEqual(new TreeVersion(Noon, "a"), new TreeVersion(Noon, "b"));
        Assert.Equal(new TreeVersion(Noon, "ABC"), new TreeVersion(Noon, "abc"));
    }

    [Fact]
    public void Manifest_timestamp_round_trips_and_rejects_other_forms()
    {
        var version = TreeVersion.FromManifestTimestamp("2026-11-21T00:45:01Z");
        Assert.Equal(new DateTimeOffset(2026, 11, 21, 0, 45, 1, TimeSpan.Zero), version.Generated);
        Assert.Null(version.Commit);
        Assert.Equal("2026-11-21T00:45:01Z", version.ToManifestTimestamp());
        Assert.Throws<FormatException>(() => TreeVersion.FromManifestTimestamp("Sat, 01 Jan 2000 00:00:00 +0000"));
        Assert.Throws<FormatException>(() => TreeVersion.FromManifestTimestamp("2026-11-21 00:45:01"));
    }

    [Fact]
    public void Converts_to_and_from_the_contract()
    {
        var git = new TreeVersion(Noon, "0123456789abcdef0123456789abcdef01234567");
        var contract = git.ToContract(Contract.Protocol.Git);
        Assert.Equal(Contract.Protocol.Git, contract.Protocol);
        Assert.Equal("0123456789abcdef0123456789abcdef01234567", contract.Commit);
        Assert.Equal(git, TreeVersion.FromContract(contract));

        var rsync = new TreeVersion(Noon).ToContract(Contract.Protocol.Rsync);
        Assert.Equal(string.Empty, rsync.Commit);
        Assert.Null(TreeVersion.FromContract(rsync).Commit);
        Assert.Throws<FormatException>(() => TreeVersion.FromContract(new Contract.TreeVersion()));
    }
}
