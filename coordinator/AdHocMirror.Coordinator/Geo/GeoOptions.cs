namespace AdHocMirror.Coordinator.Geo;

/// <summary>How the coordinator places clients and mirrors.</summary>
public sealed class GeoOptions
{
    /// <summary>CIDR → place overrides, <c>CIDR = LAT,LON [place]</c>; they win over the database.</summary>
    public List<string> Overrides { get; set; } = [];
}
