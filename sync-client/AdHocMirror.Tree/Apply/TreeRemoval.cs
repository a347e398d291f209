using System.IO.Enumeration;

namespace AdHocMirror.Tree.Apply;

/// <summary>
/// Removes a directory tree that another process may be removing at the same time (the detached <c>rm -rf</c> of a
/// retired tree, an earlier run's) or still filling (an interrupted clone's <c>cp -al</c>): an entry that vanishes
/// underneath is already gone, not an error; a directory that gains entries meanwhile is emptied again, a few times.
/// Symlinks are removed, never followed.
/// </summary>
public static class TreeRemoval
{
    private const int Attempts = 20;

    /// <summary>Removes <paramref name="path"/> (file, symlink or directory tree); nothing to do when it does not exist.</summary>
    public static void Remove(string path)
    {
        FileAttributes attributes;
        try
        {
            attributes = File.GetAttributes(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return;
        }

        if ((attributes & FileAttributes.Directory) == 0 || (attributes & FileAttributes.ReparsePoint) != 0)
        {
            DeleteEntry(path);
            return;
        }

        RemoveDirectory(path);
    }

    private static void RemoveDirectory(string directory)
    {
        for (var attempt = 1; ; attempt++)
        {
            foreach (var (child, isDirectory) in Children(directory))
            {
                if (isDirectory)
                {
                    RemoveDirectory(child);
                }
                else
                {
                    DeleteEntry(child);
                }
            }

            try
            {
                Directory.Delete(directory, recursive: false);
                return;
            }
            catch (DirectoryNotFoundException)
            {
                return;
            }
            catch (IOException) when (attempt < Attempts && Directory.Exists(directory))
            {
                // Something added an entry after the listing: empty it again.
            }
        }
    }

    private static List<(string Path, bool IsDirectory)> Children(string directory)
    {
        try
        {
            return [.. new FileSystemEnumerable<(string, bool)>(directory,
                (ref FileSystemEntry e) => (e.ToFullPath(), e.IsDirectory && (e.Attributes & FileAttributes.ReparsePoint) == 0),
                new EnumerationOptions { RecurseSubdirectories = false, AttributesToSkip = 0, IgnoreInaccessible = false })];
        }
        catch (DirectoryNotFoundException)
        {
            return [];
        }
    }

    private static void DeleteEntry(string path)
    {
        try
        {
            File.Delete(path); // No error for a name that is already gone.
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
