using System.Net;

namespace AdHocMirror.GeoIP;

/// <summary>What a City database says about an address, as the matcher needs it.</summary>
public readonly record struct CityLocation
{
    /// <summary>The address that was looked up (IPv4-mapped IPv6 addresses are looked up as IPv4).</summary>
    public IPAddress Address { get; init; }

    /// <summary>Prefix length of the matched network, in the address family of <see cref="Address"/>.</summary>
    public int PrefixLength { get; init; }

    public bool HasCoordinates { get; init; }

    public double Latitude { get; init; }

    public double Longitude { get; init; }

    /// <summary>Kilometres around the coordinates in which the address is likely to be; 0 when unknown.</summary>
    public int AccuracyRadiusKm { get; init; }

    public string? ContinentCode { get; init; }

    public string? CountryIsoCode { get; init; }

    public string? CityName { get; init; }

    /// <summary>The matched network (allocates; for logs and diagnostics).</summary>
    public IPNetwork Network
    {
        get
        {
            Span<byte> bytes = stackalloc byte[16];
            Address.TryWriteBytes(bytes, out var written);
            bytes = bytes[..written];
            for (var bit = PrefixLength; bit < written * 8; bit++)
            {
                bytes[bit >> 3] &= (byte)~(0x80 >> (bit & 7));
            }

            return new IPNetwork(new IPAddress(bytes), PrefixLength);
        }
    }
}
