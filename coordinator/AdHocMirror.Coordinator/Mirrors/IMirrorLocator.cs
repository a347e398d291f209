using System.Net;
using AdHocMirror.Contracts.V1;

namespace AdHocMirror.Coordinator.Mirrors;

/// <summary>Where a mirror is, from the address it logged in from (GeoIP, or a configured override).</summary>
public interface IMirrorLocator
{
    /// <returns>The location, or null when the address locates nowhere.</returns>
    MirrorLocation? Locate(IPAddress address);
}

/// <param name="Country">ISO 3166-1 alpha-2, null when unknown; with <paramref name="Continent"/>, what a volunteer's reach is measured in.</param>
public sealed record MirrorLocation(GeoPoint Point, string Place, string? Country = null, string? Continent = null);

/// <summary>The default until GeoIP is plugged in: nobody is anywhere.</summary>
public sealed class NoMirrorLocator : IMirrorLocator
{
    public MirrorLocation? Locate(IPAddress address) => null;
}
