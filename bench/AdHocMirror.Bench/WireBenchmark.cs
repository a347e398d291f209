namespace AdHocMirror.Bench;

public static class WireBenchmark
{
    public static Task<int> RunAsync(string[] args) => Task.FromResult(0);
}
