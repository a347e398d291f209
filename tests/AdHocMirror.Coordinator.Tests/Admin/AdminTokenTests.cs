using System.Collections.Concurrent;
using AdHocMirror.Coordinator.Admin;
using AdHocMirror.Testing;

namespace AdHocMirror.Coordinator.Tests.Admin;

/// <summary>The admin token file appears whole: scripts and the admin command read it as soon as it exists.</summary>
public sealed class AdminTokenTests
{
    [Fact]
    public async Task Starts_racing_on_a_fresh_data_directory_agree_on_one_token_and_a_reader_never_sees_it_empty()
    {
        for (var attempt = 0; attempt < 50; attempt++)
        {
            using var dir = new TempDir("ahm-admin-token");
            var path = Path.Combine(dir.Path, AdminToken.FileName);
            using var stop = new CancellationTokenSource();
            var seen = new ConcurrentQueue<string>();

            // A reader as the demo and scripts are: it reads the file the moment it exists.
            var reader = Task.Run(() =>
            {
                while (!stop.IsCancellationRequested)
                {
                    try
                    {
                        seen.Enqueue(File.ReadAllText(path));
                    }
                    catch (FileNotFoundException)
                    {
                    }
                }
            });

            var starts = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => AdminToken.LoadOrCreate(dir.Path))));
            await Eventually.TrueAsync(() => !seen.IsEmpty, "the reader read the file once");
            await stop.CancelAsync();
            await reader;

            var token = File.ReadAllText(path).Trim();
            Assert.Equal(64, token.Length);
            Assert.All(starts, s => Assert.True(s.Matches(token)));
            Assert.Single(starts, s => s.Created);
            Assert.All(seen, text => Assert.Equal(token + "\n", text));
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            }

            Assert.Equal([path], Directory.GetFiles(dir.Path));
        }
    }
}
