using System.Buffers.Binary;
using AdHocMirror.Simulation.Tests.Cli;
using AdHocMirror.Testing;

namespace AdHocMirror.Simulation.Tests.Plots;

public sealed class PlotWriterTests
{
    private static readonly byte[] PngSignature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    [Fact]
    public async Task Plots_are_png_files_of_a_sensible_size()
    {
        using var dir = new TempDir();
        var plots = Path.Combine(dir.Path, "plots");

        var (code, _, stderr) = await SimulateCommandLineTests.RunAsync([.. SimulateCommandLineTests.Small(1000), "--plots", plots, "--json"]);

        Assert.True(code == 0, stderr);
        string[] expected = ["distance-cdf.png", "official-load.png", "served-by-volunteers.png", "volunteer-utilisation.png"];
        Assert.Equal(expected, Directory.GetFiles(plots).Select(Path.GetFileName).Order());
        foreach (var name in expected)
        {
            var bytes = await File.ReadAllBytesAsync(Path.Combine(plots, name));
            Assert.Equal(PngSignature, bytes[..8]);
            Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(bytes, 12, 4));
            Assert.Equal(1000, BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)));
            Assert.Equal(600, BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20)));
            Assert.InRange(bytes.Length, 10_000, 2_000_000); // titles, labels and lines drawn, not a blank canvas
            Assert.Contains($"wrote {Path.Combine(plots, name)}", stderr, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task An_unwritable_plots_directory_exits_1()
    {
        using var dir = new TempDir();
        var file = Path.Combine(dir.Path, "not-a-directory");
        await File.WriteAllTextAsync(file, "x");

        var (code, _, stderr) = await SimulateCommandLineTests.RunAsync([.. SimulateCommandLineTests.Small(500), "--plots", file]);

        Assert.Equal(1, code);
        Assert.Contains(file, stderr, StringComparison.Ordinal);
    }
}
