using AdHocMirror.Coordinator.Geo;

namespace AdHocMirror.Coordinator.Matching;

/// <summary>
/// Bands of similar distance (0–w km, w–2w km, …) expressed as squared chords between unit vectors,
/// so that a search can band a mirror without an inverse sine: the chord grows with the distance.
/// </summary>
internal sealed class DistanceBands
{
    // Half the earth's circumference: no two points are farther apart.
    private static readonly double MaxKm = Math.PI * GreatCircle.EarthRadiusKm;

    /// <summary>Squared chord at the start of each band, index = band number.</summary>
    private readonly double[] _starts;

    public DistanceBands(double widthKm)
    {
        if (!(widthKm > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(widthKm), widthKm, "the width of a band must be positive");
        }

        WidthKm = widthKm;
        var count = (int)Math.Min(Math.Ceiling(MaxKm / widthKm) + 1, 1 << 16);
        _starts = new double[count];
        for (var band = 0; band < count; band++)
        {
            var chord = 2 * Math.Sin(Math.Min(band * widthKm, MaxKm) / (2 * GreatCircle.EarthRadiusKm));
            _starts[band] = chord * chord;
        }
    }

    public double WidthKm { get; }

    /// <summary>The band of a mirror at squared chord <paramref name="squaredChord"/>; +∞ for NaN (no location).</summary>
    public double BandOf(double squaredChord)
    {
        if (double.IsNaN(squaredChord))
        {
            return double.PositiveInfinity;
        }

        var at = ((ReadOnlySpan<double>)_starts).BinarySearch(squaredChord); // the span's search compares doubles inline, the array's through a comparer
        var band = at >= 0 ? at : ~at - 1;
        return band < _starts.Length - 1 ? band : Math.Floor(GreatCircle.ChordToKm(squaredChord) / WidthKm);
    }

    public double EndKm(double band) => double.IsPositiveInfinity(band) ? band : (band + 1) * WidthKm;
}
