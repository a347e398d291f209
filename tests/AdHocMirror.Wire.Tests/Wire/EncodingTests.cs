namespace AdHocMirror.Wire.Tests.Wire;

public sealed class EncodingTests
{
    [Theory]
    [InlineData("1H", 3600_000)]
    [InlineData("2M", 120_000)]
    [InlineData("3S", 3000)]
    [InlineData("250m", 250)]
    [InlineData("1500u", 1.5)]
    [InlineData("2000000n", 2)]
    [InlineData("99999999S", 99_999_999_000.0)]
    public void TimeoutParsesEveryUnit(string text, double milliseconds)
    {
        Assert.True(GrpcTimeout.TryParse(text, out var timeout));
        Assert.Equal(milliseconds, timeout.TotalMilliseconds, 3);
    }

    [Theory]
    [InlineData("")]
    [InlineData("S")]
    [InlineData("10")]
    [InlineData("10x")]
    [InlineData("-1S")]
    [InlineData("123456789S")]
    [InlineData("1.5S")]
    public void TimeoutRejectsMalformedValues(string text) => Assert.False(GrpcTimeout.TryParse(text, out _));

    [Theory]
    [InlineData(0.0005)]
    [InlineData(0.25)]
    [InlineData(30)]
    [InlineData(86400 * 365)]
    public void TimeoutFormatsWithinEightDigitsAndNeverShortens(double seconds)
    {
        var timeout = TimeSpan.FromSeconds(seconds);
        var text = GrpcTimeout.Format(timeout);
        Assert.InRange(text.Length, 2, 9);
        Assert.True(GrpcTimeout.TryParse(text, out var parsed));
        Assert.True(parsed >= timeout);
    }

    [Theory]
    [InlineData("plain ascii", "plain ascii")]
    [InlineData("100%", "100%25")]
    [InlineData("ünï", "%C3%BC%6E%C3%AF")]
    [InlineData("a\nb", "a%0Ab")]
    public void StatusMessageIsPercentEncoded(string message, string expected)
    {
        var encoded = StatusMessage.Encode(message);
        Assert.Equal(expected.Replace("%6E", "n", StringComparison.Ordinal), encoded);
        Assert.Equal(message, StatusMessage.Decode(encoded));
    }

    [Fact]
    public void MalformedPercentEscapesAreKept() => Assert.Equal("50%zz and %", StatusMessage.Decode("50%zz and %"));

    [Fact]
    public void MetadataRefusesReservedAndInvalidKeys()
    {
        var metadata = new Metadata();
        Assert.Throws<ArgumentException>(() => metadata.Add("grpc-status", "0"));
        Assert.Throws<ArgumentException>(() => metadata.Add("content-type", "x"));
        Assert.Throws<ArgumentException>(() => metadata.Add("Bad Key", "x"));
        Assert.Throws<ArgumentException>(() => metadata.Add("x-bin", "text"));
        Assert.Throws<ArgumentException>(() => metadata.Add("x-text", [1]));
        Assert.Throws<ArgumentException>(() => metadata.Add("x-text", "line\nbreak"));
        metadata.Add("X-Upper", "fine");
        Assert.Equal("fine", metadata.Get("x-upper"));
    }
}
