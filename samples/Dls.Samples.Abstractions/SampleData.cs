namespace Dls.Samples.Abstractions;

/// <summary>Where the samples find their data: <c>--data</c> if given, else the data embedded next to the host.</summary>
public static class SampleData
{
    /// <summary>The embedded default data, <c>&lt;host folder&gt;/data</c> (copied there from <c>samples/data</c> by the build).</summary>
    public static string DefaultRoot { get; } = Path.Combine(AppContext.BaseDirectory, "data");

    /// <summary>Returns <paramref name="dataDirectory"/> if given, else the embedded <c>data/&lt;area&gt;</c> folder.</summary>
    /// <param name="dataDirectory">The <c>--data</c> option, or <see langword="null"/>.</param>
    /// <param name="area">The embedded sub-folder, e.g. <c>mnist</c>.</param>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    public static string Resolve(string? dataDirectory, string area)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(area);
        string path = dataDirectory is null ? Path.Combine(DefaultRoot, area) : Path.GetFullPath(dataDirectory);
        if (!Directory.Exists(path))
        {
            throw new DirectoryNotFoundException(dataDirectory is null
                ? $"The embedded data for '{area}' is missing: expected the folder '{path}' (is the build output complete?)."
                : $"--data: expected an existing folder, found nothing at '{path}'.");
        }

        return path;
    }
}
