using System.Globalization;
using AdHocMirror.Contracts;
using AdHocMirror.Contracts.V1;
using AdHocMirror.Coordinator.Edge;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Google.Protobuf.WellKnownTypes;
using Spectre.Console;

namespace AdHocMirror.Coordinator.Cli;

/// <summary>
/// What <c>ahm-coordinator admin</c> prints, table or JSON. Rendered defensively: whatever a reply holds
/// (a timestamp out of range, control characters, markup) shows as text; staff must always be able to list.
/// </summary>
public static class AdminViews
{
    public const string InvalidTime = "(invalid time)";

    private static readonly JsonFormatter Formatter = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(true));

    /// <summary>The reply as JSON; a timestamp or duration JSON cannot express is dropped from a copy first.</summary>
    public static string Json(IMessage reply)
    {
        try
        {
            return Formatter.Format(reply);
        }
        catch (InvalidOperationException)
        {
            var copy = reply.Descriptor.Parser.ParseFrom(reply.ToByteArray());
            DropInvalid(copy);
            return Formatter.Format(copy);
        }
    }

    public static (Table Table, string Footer) Mirrors(ListMirrorsReply reply)
    {
        var table = Table("Key", "State", "Versions", "Location", "Load", "Last ping", "Failures", "Endpoints");
        foreach (var m in reply.Mirrors)
        {
            table.AddRow(
                Esc(m.KeyId), Esc(StateName(m.State)), Lines(m.Versions.Select(VersionText)),
                Esc(m.Location is null ? (m.Place.Length > 0 ? m.Place : "-") : $"{m.Place} ({m.Location.Latitude:0.##}, {m.Location.Longitude:0.##})".Trim()),
                Esc($"{(ulong)m.ActiveConnections + m.Leases}/{m.Limits?.MaxClients}"),
                Esc(m.LastPing is null ? "never" : $"{Time(m.LastPing)} ({m.LastPingMs:0.#} ms)"),
                m.FailedPings.ToString(CultureInfo.InvariantCulture),
                Lines(new[] { m.Endpoints?.RsyncUri, m.Endpoints?.GitUri }.Where(u => !string.IsNullOrEmpty(u))));
        }

        return (table, $"{reply.Mirrors.Count} mirror(s)");
    }

    public static (Table Table, string Footer) Keys(ListKeysReply reply)
    {
        var table = Table("Key", "State", "Issued", "Expires", "Last used", "Reason", "Until");
        foreach (var k in reply.Keys)
        {
            table.AddRow(Esc(k.KeyId), Esc(k.State.ToString().ToLowerInvariant()), Time(k.IssuedAt), Time(k.ExpiresAt), Time(k.LastUsedAt), Esc(k.Reason), Time(k.Until));
        }

        return (table, $"{reply.Keys.Count} key(s)");
    }

    public static (Table Table, string Footer) Blacklist(ListBlacklistReply reply)
    {
        var table = Table("Key or network", "Reason", "Since", "Until");
        foreach (var e in reply.Entries)
        {
            table.AddRow(Esc(e.KeyId.Length > 0 ? e.KeyId : e.Prefix), Esc(e.Reason), Time(e.Since), e.Until is null ? "indefinite" : Time(e.Until));
        }

        return (table, $"{reply.Entries.Count} entry(ies)");
    }

    public static (Table Table, string Footer) Quarantine(ListQuarantineReply reply)
    {
        var table = Table("Key", "Reason", "Since", "Reporting clients");
        foreach (var e in reply.Entries)
        {
            table.AddRow(Esc(e.KeyId), Esc(e.Reason), Time(e.Since), e.ReportingClients.ToString(CultureInfo.InvariantCulture));
        }

        return (table, $"{reply.Entries.Count} quarantined");
    }

    public static (Table Table, string Footer) Audit(ListAuditReply reply)
    {
        var table = Table("Id", "Time", "Actor", "Action", "Subject", "Reason");
        foreach (var e in reply.Entries)
        {
            table.AddRow(e.Id.ToString(CultureInfo.InvariantCulture), Time(e.At), Esc(e.Actor), Esc(e.Action), Esc(e.Subject), Esc(e.Reason));
        }

        return (table, $"{reply.Entries.Count} entry(ies)");
    }

    public static (Table Table, string Footer) Stats(GetStatsReply reply)
    {
        var table = Table("Figure", "Value");
        foreach (var c in reply.Coordinators)
        {
            // Several coordinators on one database: each with the sessions it pings and its heartbeat's age.
            var age = c.HeartbeatAge is { } heartbeat && heartbeat.Seconds is >= 0 and < 315_576_000_000 && heartbeat.Nanos is > -1_000_000_000 and < 1_000_000_000
                ? heartbeat.ToTimeSpan().TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)
                : "?";
            table.AddRow(
                Esc($"coordinator {c.Id}{(c.Id == reply.CoordinatorId ? " (answering)" : string.Empty)}"),
                Esc($"{(c.Live ? "live" : "dead")}, pings {c.Sessions} sessions, heartbeat {age} s ago, {c.PublicAddress}, admin {c.AdminAddress}"));
        }

        foreach (var (name, value) in reply.Values.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            table.AddRow(Esc(name), value.ToString("0.###", CultureInfo.InvariantCulture));
        }

        return (table, $"since {Time(reply.StartedAt)}");
    }

    /// <summary>One line of <c>audit --follow</c>.</summary>
    public static string AuditLine(AuditEntry entry) =>
        $"{entry.Id,6} {Time(entry.At)} {InputText.Escape(entry.Actor),-6} {InputText.Escape(entry.Action),-20} {InputText.Escape(entry.Subject)} {InputText.Escape(entry.Reason)}";

    public static string Time(Timestamp? time)
    {
        if (time is null)
        {
            return "-";
        }

        return IsValid(time) ? time.ToDateTimeOffset().UtcDateTime.ToString("yyyy-MM-dd HH:mm:ssZ", CultureInfo.InvariantCulture) : InvalidTime;
    }

    private static bool IsValid(Timestamp time) => FieldRules.IsValid(time);

    private static bool IsValid(Duration duration) =>
        duration.Seconds is >= -315_576_000_000 and <= 315_576_000_000 && duration.Nanos is > -1_000_000_000 and < 1_000_000_000
        && (duration.Seconds == 0 || duration.Nanos == 0 || (duration.Seconds > 0) == (duration.Nanos > 0));

    private static void DropInvalid(IMessage message)
    {
        foreach (var field in message.Descriptor.Fields.InDeclarationOrder())
        {
            if (field.FieldType != FieldType.Message)
            {
                continue;
            }

            var value = field.Accessor.GetValue(message);
            if (field.IsRepeated)
            {
                foreach (var item in ((System.Collections.IEnumerable)value).OfType<IMessage>())
                {
                    DropInvalid(item);
                }
            }
            else if (value is Timestamp time && !IsValid(time))
            {
                field.Accessor.Clear(message);
            }
            else if (value is Duration duration && !IsValid(duration))
            {
                field.Accessor.Clear(message);
            }
            else if (value is IMessage inner && field.IsMap is false)
            {
                DropInvalid(inner);
            }
        }
    }

    private static Table Table(params string[] columns)
    {
        var table = new Table().Border(TableBorder.Rounded);
        foreach (var column in columns)
        {
            table.AddColumn(new TableColumn(column));
        }

        return table;
    }

    private static string Esc(string? text) => Markup.Escape(InputText.Escape(text));

    private static string Lines(IEnumerable<string?> lines) => Markup.Escape(string.Join("\n", lines.Select(InputText.Escape)));

    private static string StateName(MirrorState state) => state.ToString().ToLowerInvariant();

    private static string VersionText(TreeVersion v) =>
        $"{v.Protocol.ToString().ToLowerInvariant()} {Time(v.Generated)}{(v.Commit.Length > 0 ? " " + v.Commit[..Math.Min(12, v.Commit.Length)] : string.Empty)}";
}
