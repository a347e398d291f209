using System.Net;
using AdHocMirror.Contracts.V1;

namespace AdHocMirror.Coordinator.Mirrors;

/// <summary>Where a mirror is, from the address it logged in from (GeoIP, or a configured override).</summary>
public interface IMirrorLocator
{
    /// <returns>The location, or null when the address locates nowhere.</returns>
    MirrorLocation? Locate(IPAddress address);
}

public sealed record MirrorLocation(GeoPoint Point, string Place);

/// <summary>The default until GeoIP is plugged in: nobody is anywhere.</summary>
public sealed class NoMirrorLocator : IMirrorLocator
{
    public MirrorLocation? Locate(IPAddress address) => null;
}
