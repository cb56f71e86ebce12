namespace Dls.Samples.Abstractions;

/// <summary>
/// A temporary folder for a task's intermediate files (training checkpoints before they are published into the results
/// folder), removed on dispose. A removal that fails is logged-and-forgotten, never thrown over the exception that
/// ended the task.
/// </summary>
public sealed class ScratchFolder : IDisposable
{
    private ScratchFolder(string path) => Path = path;

    /// <summary>The folder (absolute).</summary>
    public string Path { get; }

    /// <summary>Creates an empty folder under the system's temporary folder.</summary>
    /// <param name="prefix">The start of its name, e.g. <c>dls-mnist-</c>.</param>
    public static ScratchFolder Create(string prefix) => new(Directory.CreateTempSubdirectory(prefix).FullName);

    /// <summary>A path inside the folder.</summary>
    /// <param name="fileName">A file name.</param>
    public string PathFor(string fileName) => System.IO.Path.Combine(Path, fileName);

    /// <inheritdoc />
    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A file still open elsewhere (or removed already): leaving a temporary folder is harmless.
        }
    }
}
