using System.Globalization;
using Google.Protobuf.WellKnownTypes;
using Contract = AdHocMirror.Contracts.V1;

namespace AdHocMirror.Tree.Versions;

/// <summary>
/// The version of a verified tree (DESIGN.md "Tree versions"): the time upstream generated it, plus the
/// head commit for git trees. Ordering and "newer" compare <see cref="Generated"/> only; equality also
/// compares the commit.
/// </summary>
public readonly record struct TreeVersion : IComparable<TreeVersion>
{
    public TreeVersion(DateTimeOffset generated, string? commit = null)
    {
        // Whole seconds: both sources (TIMESTAMP, committer time) have second resolution, and so do peers.
        Generated = DateTimeOffset.FromUnixTimeSeconds(generated.ToUnixTimeSeconds());
        Commit = string.IsNullOrEmpty(commit) ? null : commit.ToLowerInvariant();
    }

    /// <summary>When upstream generated the tree (UTC, whole seconds).</summary>
    public DateTimeOffset Generated { get; }

    /// <summary>Full hex commit id for git trees; null for rsync trees.</summary>
    public string? Commit { get; }

    public bool IsNewerThan(TreeVersion other) => Generated > other.Generated;

    public bool IsOlderThan(TreeVersion other) => Generated < other.Generated;

    public int CompareTo(TreeVersion other) => Generated.CompareTo(other.Generated);

    public static bool operator <(TreeVersion left, TreeVersion right) => left.CompareTo(right) < 0;

    public static bool operator >(TreeVersion left, TreeVersion right) => left.CompareTo(right) > 0;

    public static bool operator <=(TreeVersion left, TreeVersion right) => left.CompareTo(right) <= 0;

    public static bool operator >=(TreeVersion left, TreeVersion right) => left.CompareTo(right) >= 0;

    /// <summary>Parses the value of a GLEP 74 <c>TIMESTAMP</c> line, e.g. <c>2026-11-21T00:45:01Z</c>.</summary>
    public static TreeVersion FromManifestTimestamp(string value)
    {
        if (!DateTimeOffset.TryParseExact(value, "yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time))
        {
            throw new FormatException($"not a GLEP 74 TIMESTAMP: '{value}'");
        }

        return new TreeVersion(time);
    }

    /// <summary>The GLEP 74 <c>TIMESTAMP</c> form of <see cref="Generated"/>.</summary>
    public string ToManifestTimestamp() => Generated.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public static TreeVersion FromContract(Contract.TreeVersion version)
    {
        ArgumentNullException.ThrowIfNull(version);
        if (version.Generated is null)
        {
            throw new FormatException("tree version has no generated time");
        }

        return new TreeVersion(version.Generated.ToDateTimeOffset(), version.Commit);
    }

    public Contract.TreeVersion ToContract(Contract.Protocol protocol) => new()
    {
        Protocol = protocol,
        Generated = Timestamp.FromDateTimeOffset(Generated),
        Commit = Commit ?? string.Empty,
    };

    public override string ToString() => Commit is null ? ToManifestTimestamp() : $"{ToManifestTimestamp()} {Commit}";
}
