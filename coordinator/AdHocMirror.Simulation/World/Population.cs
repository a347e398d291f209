using AdHocMirror.Coordinator.Geo;
using AdHocMirror.Simulation.Engine;

namespace AdHocMirror.Simulation.World;

/// <summary>Draws places and daily habits from the seed alone, so two runs that differ only in volunteers share their clients.</summary>
public sealed class Population
{
    private readonly double[] _cumulative;
    private readonly IReadOnlyList<ClientPlaces.City> _cities = ClientPlaces.Cities;

    public Population(SimulationOptions options)
    {
        _cumulative = new double[_cities.Count];
        var sum = 0.0;
        for (var i = 0; i < _cities.Count; i++)
        {
            sum += _cities[i].Weight;
            _cumulative[i] = sum;
        }

        var random = new Random(Streams.Of(options.Seed, 1));
        var count = options.Clients;
        Places = new GeoPlace[count];
        SyncSecondOfDay = new double[count];
        Probes = new bool[count];
        for (var i = 0; i < count; i++)
        {
            Places[i] = DrawPlace(random);
            SyncSecondOfDay[i] = DrawUtcSecondOfDay(random, Places[i].Longitude, options.ClientDiurnal);
            Probes[i] = random.NextDouble() < options.Probe;
        }
    }

    public GeoPlace[] Places { get; }

    /// <summary>When each client's daily sync runs, in seconds after midnight UTC.</summary>
    public double[] SyncSecondOfDay { get; }

    public bool[] Probes { get; }

    /// <summary>A place: a city by weight, scattered around it.</summary>
    public GeoPlace DrawPlace(Random random)
    {
        var pick = random.NextDouble() * _cumulative[^1];
        var index = Array.BinarySearch(_cumulative, pick);
        var city = _cities[index < 0 ? Math.Min(~index, _cities.Count - 1) : index];
        var lat = Math.Clamp(city.Latitude + (Gaussian(random) * ClientPlaces.ScatterDegrees), -89.9, 89.9);
        var lon = city.Longitude + (Gaussian(random) * ClientPlaces.ScatterDegrees);
        lon = lon > 180 ? lon - 360 : lon < -180 ? lon + 360 : lon;
        return new GeoPlace(lat, lon, city.Name);
    }

    /// <summary>A time of day following the local day (more in the afternoon, fewest at 3 am), as UTC seconds.</summary>
    public static double DrawUtcSecondOfDay(Random random, double longitude, double diurnal)
    {
        double localHour;
        do
        {
            localHour = random.NextDouble() * 24;
        }
        while (random.NextDouble() * (1 + diurnal) > 1 + (diurnal * Math.Cos(2 * Math.PI * (localHour - 15) / 24)));

        var utcHour = localHour - (longitude / 15);
        return ((utcHour % 24) + 24) % 24 * 3600;
    }

    private static double Gaussian(Random random)
    {
        var u1 = 1.0 - random.NextDouble();
        var u2 = random.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}

/// <summary>Independent random streams from one seed.</summary>
public static class Streams
{
    public static int Of(int seed, int stream) => (int)(Mix(((ulong)(uint)seed << 8) | (uint)stream) & int.MaxValue);

    /// <summary>A uniform number in [0, 1) from a few integers, without a generator's state (SplitMix64).</summary>
    public static double Uniform(int seed, int a, int b)
    {
        var x = Mix(((ulong)(uint)seed << 40) ^ ((ulong)(uint)a << 12) ^ (uint)b);
        return (x >> 11) * (1.0 / (1UL << 53));
    }

    private static ulong Mix(ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }
}
