namespace AdHocMirror.Bench;

/// <summary>
/// Processes an earlier, interrupted benchmark left working under a directory: ahm-sync's detached removal of a retired
/// tree and clone of a spare outlive it by design, and name their paths on their command line.
/// </summary>
internal static class Leftovers
{
    public static async Task WaitForAsync(string directory, TimeSpan patience)
    {
        var deadline = DateTime.UtcNow + patience;
        var reported = false;
        while (Running(directory) is { Count: > 0 } running)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"processes still working under {directory} after {patience.TotalMinutes:0} min: {string.Join(", ", running)}");
            }

            if (!reported)
            {
                Console.WriteLine($"  waiting for {running.Count} leftover process(es) of an earlier run working under {directory}");
                reported = true;
            }

            await Task.Delay(200);
        }
    }

    private static List<int> Running(string directory)
    {
        var found = new List<int>();
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(entry), out var pid) || pid == Environment.ProcessId)
            {
                continue;
            }

            try
            {
                var commandLine = File.ReadAllText(Path.Combine(entry, "cmdline")).Replace('\0', ' ');
                if (commandLine.Contains(directory, StringComparison.Ordinal) && !commandLine.Contains("rsync --daemon", StringComparison.Ordinal))
                {
                    found.Add(pid);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Gone meanwhile, or not ours.
            }
        }

        return found;
    }
}
