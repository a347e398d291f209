using AdHocMirror.Contracts.V1;

namespace AdHocMirror.Coordinator.Matching;

public sealed class MatchingOptions
{
    /// <summary>Candidates returned when the client asks for 0.</summary>
    public int DefaultCount { get; set; } = 3;

    /// <summary>Most candidates one answer may hold (each takes a lease).</summary>
    public int MaxCount { get; set; } = 8;

    /// <summary>A lease not released by ReportSync frees its slot after this long.</summary>
    public TimeSpan LeaseTtl { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>A late ReportSync still counts (outcome, quarantine) this long after its lease expired.</summary>
    public TimeSpan LateReportGrace { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Mirrors whose distances fall in the same band of this width count as equally near; spare capacity orders them.</summary>
    public double SimilarDistanceKm { get; set; } = 100;

    /// <summary>
    /// Most candidates one search examines, nearest cells first. Bounds the cost of an answer where
    /// volunteers are dense, so that it stays the same from a thousand mirrors to a hundred thousand:
    /// spare capacity then orders the nearest this many, not every mirror in the band.
    /// </summary>
    public int MaxExamined { get; set; } = 24;

    /// <summary>Most lease records kept (live, plus expired ones awaiting a late report); the oldest expired go first.</summary>
    public int MaxLeaseRecords { get; set; } = 200_000;

    /// <summary>A volunteer is offered only if at least this much nearer than the nearest official mirror…</summary>
    public double OfficialMarginKm { get; set; } = 200;

    /// <summary>…unless the nearest official mirror is farther than this (or there is none with a location).</summary>
    public double OfficialFarKm { get; set; } = 1500;

    /// <summary>Distinct clients reporting a failed verification, rollback or stale tree within the window that quarantine a mirror.</summary>
    public int QuarantineReports { get; set; } = 3;

    /// <summary>Distinct clients that could not confirm a mirror's advertised version, none confirming it, that quarantine it.</summary>
    public int UnconfirmedReports { get; set; } = 5;

    public TimeSpan ReportWindow { get; set; } = TimeSpan.FromHours(1);

    /// <summary>The official mirrors: always listed as fallback, nearest first.</summary>
    public List<OfficialMirrorOptions> Official { get; set; } =
    [
        new() { Name = "rsync.gentoo.org", Uri = "rsync://rsync.gentoo.org/gentoo-portage", Protocol = Protocol.Rsync },
        new() { Name = "anongit.gentoo.org", Uri = "https://anongit.gentoo.org/git/repo/sync/gentoo.git", Protocol = Protocol.Git },
    ];
}

/// <summary>One official mirror; without a location it is listed but never "near".</summary>
public sealed class OfficialMirrorOptions
{
    public string Name { get; set; } = string.Empty;

    public string Uri { get; set; } = string.Empty;

    public Protocol Protocol { get; set; } = Protocol.Rsync;

    public double? Latitude { get; set; }

    public double? Longitude { get; set; }

    /// <summary>Parses <c>NAME URI [LAT,LON]</c>; the protocol follows the URI scheme.</summary>
    public static OfficialMirrorOptions Parse(string spec)
    {
        var parts = spec.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length is < 2 or > 3 || !System.Uri.TryCreate(parts[1], UriKind.Absolute, out var uri))
        {
            throw new global::AdHocMirror.Hosting.SettingsException($"official mirror '{spec}': expected 'NAME URI [LAT,LON]'");
        }

        var mirror = new OfficialMirrorOptions
        {
            Name = parts[0],
            Uri = parts[1],
            Protocol = uri.Scheme == "rsync" ? Protocol.Rsync : Protocol.Git,
        };
        if (parts.Length == 3)
        {
            if (!Geo.GeoPlace.TryParseCoordinates(parts[2], out var lat, out var lon))
            {
                throw new global::AdHocMirror.Hosting.SettingsException($"official mirror '{spec}': '{parts[2]}' is not LAT,LON");
            }

            mirror.Latitude = lat;
            mirror.Longitude = lon;
        }

        return mirror;
    }
}
