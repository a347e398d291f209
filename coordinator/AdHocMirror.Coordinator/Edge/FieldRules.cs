using AdHocMirror.Contracts;
using AdHocMirror.Contracts.V1;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace AdHocMirror.Coordinator.Edge;

/// <summary>
/// The checks every request field gets where it enters the coordinator: a bad value is INVALID_ARGUMENT
/// naming the field and quoting at most a short prefix of it, and nothing a later read cannot render is kept.
/// </summary>
public static class FieldRules
{
    /// <summary>No Gentoo tree was generated before this; older "versions" are garbage.</summary>
    public static readonly DateTimeOffset OldestVersion = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>How far in the future (by the coordinator's clock) a tree version may lie: clocks drift, but not by days.</summary>
    public static readonly TimeSpan VersionSkew = TimeSpan.FromDays(1);

    public const int MaxCommitLength = 64;

    /// <summary>0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z, the range of google.protobuf.Timestamp.</summary>
    public const long MinTimestampSeconds = -62_135_596_800;
    public const long MaxTimestampSeconds = 253_402_300_799;

    public static bool IsValid(Timestamp time) =>
        time.Nanos is >= 0 and <= 999_999_999 && time.Seconds is >= MinTimestampSeconds and <= MaxTimestampSeconds;

    public static RpcException Invalid(string message) => new(new Status(StatusCode.InvalidArgument, message));

    /// <summary>A protobuf Timestamp within its documented range (0001-01-01..9999-12-31, nanos 0..999,999,999).</summary>
    public static DateTimeOffset CheckTimestamp(string field, Timestamp? time)
    {
        if (time is null)
        {
            throw Invalid($"{field} is required");
        }

        if (!IsValid(time))
        {
            throw Invalid($"{field} is not a valid timestamp (seconds 0001-01-01..9999-12-31, nanos 0..999999999)");
        }

        return time.ToDateTimeOffset();
    }

    /// <summary>A tree version's time: valid, not before 2000 and not more than <see cref="VersionSkew"/> ahead of <paramref name="now"/>.</summary>
    public static void CheckGenerated(string field, Timestamp? time, DateTimeOffset now)
    {
        var at = CheckTimestamp(field, time);
        if (at < OldestVersion || at > now + VersionSkew)
        {
            throw Invalid($"{field} must lie between {OldestVersion:yyyy-MM-dd} and {VersionSkew.TotalHours:0} h after the coordinator's time");
        }
    }

    /// <summary>A version as sent by a client or a mirror: protocol set, time in range, commit hex of at most 64 characters.</summary>
    public static void CheckVersion(string field, TreeVersion version, DateTimeOffset now, bool protocolRequired = true)
    {
        if (protocolRequired && version.Protocol is not (Protocol.Rsync or Protocol.Git))
        {
            throw Invalid($"{field}.protocol must be PROTOCOL_RSYNC or PROTOCOL_GIT");
        }

        CheckGenerated($"{field}.generated", version.Generated, now);
        CheckHex($"{field}.commit", version.Commit, MaxCommitLength);
    }

    public static void CheckHex(string field, string text, int maxLength)
    {
        if (text.Length > maxLength || text.Any(c => !char.IsAsciiHexDigit(c)))
        {
            throw Invalid($"{field} {InputText.Quote(text)} is not hex of at most {maxLength} characters");
        }
    }

    public static void CheckLength(string field, string text, int maxLength)
    {
        if (text.Length > maxLength)
        {
            throw Invalid($"{field} is longer than {maxLength} characters");
        }
    }

    /// <summary>A duration that is positive and at most <paramref name="max"/>.</summary>
    public static TimeSpan CheckDuration(string field, Duration duration, TimeSpan max)
    {
        if (duration.Nanos is < -999_999_999 or > 999_999_999 || (duration.Seconds > 0 && duration.Nanos < 0) || (duration.Seconds < 0 && duration.Nanos > 0)
            || duration.Seconds > (long)max.TotalSeconds || duration.Seconds < 0 || (duration.Seconds == 0 && duration.Nanos <= 0))
        {
            throw Invalid($"{field} must be a positive duration of at most {max.TotalDays:0} days");
        }

        var span = duration.ToTimeSpan();
        return span <= max ? span : throw Invalid($"{field} must be a positive duration of at most {max.TotalDays:0} days");
    }
}
