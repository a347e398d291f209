namespace AdHocMirror.Testing.Trees;

/// <summary>
/// File sizes drawn to match a real ebuild repository: median ≈ 800 B, p90 ≈ 3.3 KB, p99 ≈ 52 KB, a few up to
/// ~440 KB (log-linear interpolation between these quantiles).
/// </summary>
public static class FileSizes
{
    private static readonly (double Quantile, double Bytes)[] Knots =
    [
        (0.0, 40), (0.10, 180), (0.50, 800), (0.90, 3_300), (0.99, 52_000), (0.999, 200_000), (1.0, 440_000),
    ];

    public static int Draw(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        return AtQuantile(random.NextDouble());
    }

    public static int AtQuantile(double q)
    {
        for (var i = 1; i < Knots.Length; i++)
        {
            if (q <= Knots[i].Quantile)
            {
                var (q0, b0) = Knots[i - 1];
                var (q1, b1) = Knots[i];
                var t = (q - q0) / (q1 - q0);
                return (int)Math.Round(Math.Exp(Math.Log(b0) + (t * (Math.Log(b1) - Math.Log(b0)))));
            }
        }

        return (int)Knots[^1].Bytes;
    }
}
