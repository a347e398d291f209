using AdHocMirror.Coordinator.Geo;
using AdHocMirror.Coordinator.Matching;

namespace AdHocMirror.Coordinator.Tests.Matching;

public sealed class DistanceBandsTests
{
    [Theory]
    [InlineData(100.0)]
    [InlineData(25.0)]
    [InlineData(0.5)]
    public void A_band_from_the_chord_is_the_band_of_the_great_circle_distance(double width)
    {
        var bands = new DistanceBands(width);
        var random = new Random(5);
        for (var i = 0; i < 20_000; i++)
        {
            var (lat1, lon1, lat2, lon2) = (random.NextDouble() * 180 - 90, random.NextDouble() * 360 - 180, random.NextDouble() * 180 - 90, random.NextDouble() * 360 - 180);
            if (i % 2 == 0)
            {
                // Near ones too, where the bands are narrow compared with the distance's resolution.
                (lat2, lon2) = (Math.Clamp(lat1 + (random.NextDouble() - 0.5), -90, 90), lon1 + (random.NextDouble() - 0.5));
            }

            var km = GreatCircle.DistanceKm(lat1, lon1, lat2, lon2);
            var a = GreatCircle.UnitVector(lat1, lon1);
            var b = GreatCircle.UnitVector(lat2, lon2);
            var chord = Math.Pow(a.X - b.X, 2) + Math.Pow(a.Y - b.Y, 2) + Math.Pow(a.Z - b.Z, 2);
            Assert.Equal(km, GreatCircle.ChordToKm(chord), 6);
            var expected = Math.Floor(km / width);
            var got = bands.BandOf(chord);
            // Exactly on a boundary the two formulas may round apart by one band.
            Assert.True(got == expected || Math.Abs((km / width) - Math.Round(km / width)) < 1e-6, $"{km} km: band {got}, expected {expected}");
        }

        Assert.Equal(double.PositiveInfinity, bands.BandOf(double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DistanceBands(0));
    }
}
