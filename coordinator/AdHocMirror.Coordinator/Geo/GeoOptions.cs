namespace AdHocMirror.Coordinator.Geo;

/// <summary>How the coordinator places clients and mirrors.</summary>
public sealed class GeoOptions
{
    /// <summary>CIDR → place overrides, <c>CIDR = LAT,LON [place]</c>; they win over the database.</summary>
    public List<string> Overrides { get; set; } = [];

    /// <summary>
    /// A client's point hint is used only this close to where its address places it; farther hints
    /// are ignored, so that a hint cannot move a client (and a scraper cannot sweep the globe from
    /// one place). A hint is taken as given only when the address locates nowhere.
    /// </summary>
    public double HintMaxKm { get; set; } = DefaultHintMaxKm;

    public const double DefaultHintMaxKm = 250;
}
