namespace Dls.Audio.IO;

/// <summary>
/// Writes files so that readers never see half of one: the content goes to a temporary file in the same folder,
/// which is then renamed over the target. A failed write leaves the earlier file (if any) untouched.
/// </summary>
public static class AtomicFile
{
    /// <summary>Writes <paramref name="path"/> by letting <paramref name="write"/> fill a stream, then renaming.</summary>
    /// <param name="path">The file to create or replace.</param>
    /// <param name="write">Fills the stream; any exception it throws removes the temporary file and propagates.</param>
    public static void Write(string path, Action<Stream> write) => WriteAll([(path, write)]);

    /// <summary>
    /// Writes several files that belong together (a checkpoint's weights and its sidecar): every file's content goes to
    /// a temporary file first, and only when all are written are they renamed over their targets, in the order given. A
    /// failure while writing leaves every target untouched; what remains is the short run of renames at the end.
    /// </summary>
    /// <param name="files">Each target path with the action that fills its stream.</param>
    /// <exception cref="ArgumentException">No files, or a path given twice.</exception>
    public static void WriteAll(IReadOnlyList<(string Path, Action<Stream> Write)> files)
    {
        ArgumentNullException.ThrowIfNull(files);
        if (files.Count == 0) throw new ArgumentException("Expected at least one file to write; found none.", nameof(files));
        var targets = new string[files.Count];
        for (int i = 0; i < files.Count; i++)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(files[i].Path);
            ArgumentNullException.ThrowIfNull(files[i].Write);
            targets[i] = Path.GetFullPath(files[i].Path);
            if (Array.IndexOf(targets, targets[i], 0, i) >= 0)
                throw new ArgumentException($"Expected each file once; '{targets[i]}' is given twice.", nameof(files));
            if (Directory.Exists(targets[i]))
                throw new IOException($"Cannot write '{targets[i]}': expected a file path, found a folder.");
        }
        var temps = new List<string>(files.Count);
        try
        {
            for (int i = 0; i < files.Count; i++)
            {
                string directory = Path.GetDirectoryName(targets[i]) ?? ".";
                Directory.CreateDirectory(directory);
                // Same folder as the target, so the final rename stays on one file system and is atomic.
                string temp = Path.Combine(directory, $".{Path.GetFileName(targets[i])}.{Guid.NewGuid():N}.tmp");
                temps.Add(temp);
                using var stream = CreateTemporary(temp, targets[i]);
                files[i].Write(stream);
                // On disk before the rename: after a power cut the target is the old file or the new one, never empty.
                stream.Flush(flushToDisk: true);
            }
            for (int i = 0; i < files.Count; i++)
            {
                File.Move(temps[i], targets[i], overwrite: true);
            }
        }
        catch
        {
            foreach (string temp in temps)
            {
                TryDelete(temp);
            }

            throw;
        }
    }

    /// <summary>
    /// Creates the temporary file beside <paramref name="target"/>; a failure is reported for the target the caller named,
    /// not for the temporary name it never chose.
    /// </summary>
    private static FileStream CreateTemporary(string temp, string target)
    {
        try
        {
            return new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new UnauthorizedAccessException($"Cannot write '{target}': no permission to create a file in '{Path.GetDirectoryName(target)}' ({e.Message}).", e);
        }
        catch (IOException e)
        {
            throw new IOException($"Cannot write '{target}': creating a file in '{Path.GetDirectoryName(target)}' failed ({e.Message}).", e);
        }
    }

    /// <summary>Writes all bytes atomically.</summary>
    /// <param name="path">The file to create or replace.</param>
    /// <param name="bytes">The content.</param>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        byte[] copy = bytes.ToArray();
        Write(path, s => s.Write(copy));
    }

    /// <summary>Writes all text (UTF-8, no byte-order mark) atomically.</summary>
    /// <param name="path">The file to create or replace.</param>
    /// <param name="text">The content.</param>
    public static void WriteAllText(string path, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        Write(path, s =>
        {
            using var writer = new StreamWriter(s, new System.Text.UTF8Encoding(false), leaveOpen: true);
            writer.Write(text);
        });
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Best effort: a leftover hidden .tmp file is harmless and never mistaken for the target.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
