using AdHocMirror.Swarm;

var work = Path.Combine(Path.GetTempPath(), "ahm-demo-" + Guid.NewGuid().ToString("N")[..8]);
Directory.CreateDirectory(work);
File.SetUnixFileMode(work, (UnixFileMode)0b111_101_101);
var keep = args.Contains("--keep");
try
{
    return await new DemoSwarm(work, Console.Out).RunAsync();
}
catch (Exception e) when (e is InvalidOperationException or TimeoutException or IOException)
{
    Console.Error.WriteLine($"\ndemo failed: {e.Message}\nlogs are in {Path.Combine(work, "logs")}");
    keep = true;
    return 1;
}
finally
{
    if (!keep)
    {
        Directory.Delete(work, recursive: true);
    }
}
