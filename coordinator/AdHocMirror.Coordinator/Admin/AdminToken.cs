using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace AdHocMirror.Coordinator.Admin;

/// <summary>The admin token: a file in the data directory, created mode 0600 on first start.</summary>
public sealed class AdminToken
{
    public const string FileName = "admin.token";
    private readonly byte[] _hash;

    private AdminToken(string path, string token, bool created)
    {
        Path = path;
        Created = created;
        _hash = SHA256.HashData(Encoding.UTF8.GetBytes(token));
    }

    public string Path { get; }

    /// <summary>True when this start created the file (its path is then logged once).</summary>
    public bool Created { get; }

    public static AdminToken LoadOrCreate(string dataDir)
    {
        var path = System.IO.Path.Combine(dataDir, FileName);
        var created = false;
        if (!File.Exists(path))
        {
            // Written whole under a temporary name, then moved into place without replacing: a reader (the admin
            // command, a script waiting for the file, a second start) never sees it empty or half written.
            var token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
            // A name of its own per attempt: two starts sharing one would write into each other's file.
            var temporary = System.IO.Path.Combine(dataDir, $".{FileName}.{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8))}.tmp");
            try
            {
                var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
                if (!OperatingSystem.IsWindows())
                {
                    options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
                }

                using (var stream = new FileStream(temporary, options))
                using (var writer = new StreamWriter(stream))
                {
                    writer.Write(token + "\n");
                    writer.Flush();
                    stream.Flush(flushToDisk: true);
                }

                created = Publish(temporary, path);
            }
            catch (IOException) when (File.Exists(path))
            {
                // Another start won the race; use its token.
            }
            finally
            {
                File.Delete(temporary);
            }
        }

        var text = File.ReadAllText(path).Trim();
        if (text.Length < 16)
        {
            throw new InvalidDataException($"{path}: the admin token is missing or shorter than 16 characters");
        }

        return new AdminToken(path, text, created);
    }

    /// <summary>
    /// Puts the written token in place unless a file is already there: link(2) fails with EEXIST then, atomically, so
    /// exactly one of several starts creates it. (File.Move without overwrite checks, then renames: two starts racing
    /// both "created" it, the second replacing the first's token under it; the stress runs caught that.)
    /// </summary>
    /// <returns>False when another start put its token there first.</returns>
    private static bool Publish(string temporary, string path)
    {
        const int AlreadyExists = 17; // EEXIST
        if (OperatingSystem.IsLinux())
        {
            if (Link(temporary, path) == 0)
            {
                return true;
            }

            var errno = Marshal.GetLastPInvokeError();
            if (errno == AlreadyExists)
            {
                return false;
            }

            if (errno is not (1 or 38 or 95)) // EPERM, ENOSYS, EOPNOTSUPP: a filesystem without hard links
            {
                throw new IOException($"cannot create {path}: {Marshal.GetPInvokeErrorMessage(errno)}");
            }
        }

        File.Move(temporary, path, overwrite: false);
        return true;
    }

    [DllImport("libc", EntryPoint = "link", SetLastError = true)]
    private static extern int Link([MarshalAs(UnmanagedType.LPUTF8Str)] string existing, [MarshalAs(UnmanagedType.LPUTF8Str)] string created);

    /// <summary>Compares hashes in constant time, so neither length nor content leaks through timing.</summary>
    public bool Matches(string? presented) =>
        presented is not null && CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), _hash);
}
