using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dls.Audio.IO;

namespace Dls.Samples.Abstractions;

/// <summary>
/// The one results writer of the samples: <c>&lt;out&gt;/&lt;name&gt;.json</c> figures, <c>&lt;out&gt;/&lt;name&gt;.md</c>
/// report sections and plot files, every file written atomically so a failed run leaves earlier results intact.
/// </summary>
public sealed class ResultsWriter
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };
    private static readonly object MergeLock = new();
    private readonly List<string> _sections = [];

    /// <summary>Creates a writer for <paramref name="outputDirectory"/> (created on first write).</summary>
    /// <param name="outputDirectory">The results folder.</param>
    public ResultsWriter(string outputDirectory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(outputDirectory);
        OutputDirectory = Path.GetFullPath(outputDirectory);
    }

    /// <summary>The results folder (absolute).</summary>
    public string OutputDirectory { get; }

    /// <summary>The Markdown sections written through this writer, in order (the host assembles the report from them).</summary>
    public IReadOnlyList<string> WrittenSections
    {
        get
        {
            lock (_sections)
            {
                return _sections.ToArray();
            }
        }
    }

    /// <summary>
    /// Merges <paramref name="values"/> into <c>&lt;out&gt;/&lt;name&gt;.json</c>: top-level keys present in
    /// <paramref name="values"/> replace those in the file, others are kept (so several tasks can fill one file).
    /// </summary>
    /// <param name="name">File name without extension, e.g. <c>mnist</c>.</param>
    /// <param name="values">The figures to add or replace.</param>
    /// <exception cref="InvalidDataException">The existing file is not a JSON object.</exception>
    /// <exception cref="IOException">Another process held the results file's lock for longer than <see cref="LockTimeout"/>.</exception>
    public void MergeJson(string name, JsonObject values) => MergeJson(name, values, []);

    /// <summary>
    /// Merges <paramref name="values"/> into <c>&lt;out&gt;/&lt;name&gt;.json</c> (as <see cref="MergeJson(string, JsonObject)"/>)
    /// and writes <paramref name="alongside"/> — the models these figures describe — in the same
    /// <see cref="AtomicFile.WriteAll"/>: a failure while writing leaves the earlier models and figures together; the
    /// JSON is renamed last.
    /// </summary>
    /// <param name="name">File name without extension, e.g. <c>denoise</c>.</param>
    /// <param name="values">The figures to add or replace.</param>
    /// <param name="alongside">Files to write with the figures (e.g. <c>CheckpointFiles.WritesTo</c>).</param>
    /// <exception cref="InvalidDataException">The existing file is not a JSON object.</exception>
    /// <exception cref="IOException">Another process held the results file's lock for longer than <see cref="LockTimeout"/>.</exception>
    public void MergeJson(string name, JsonObject values, IReadOnlyList<(string Path, Action<Stream> Write)> alongside)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(alongside);
        string path = PathFor(CheckName(name) + ".json");
        lock (MergeLock)
        {
            using var crossProcess = AcquireFileLock(path);
            JsonObject merged = ReadExisting(path);
            foreach ((string key, JsonNode? value) in values)
            {
                merged[key] = value?.DeepClone();
            }

            string text = merged.ToJsonString(Indented) + "\n";
            AtomicFile.WriteAll([.. alongside, (path, s => s.Write(new UTF8Encoding(false).GetBytes(text)))]);
        }
    }

    /// <summary>
    /// Checks that <see cref="MergeJson(string, JsonObject)"/> will be able to merge into <c>&lt;out&gt;/&lt;name&gt;.json</c>; tasks call it
    /// before their work, so that a damaged results file stops them at once rather than after a long training whose
    /// models would already have replaced the earlier ones.
    /// </summary>
    /// <param name="name">File name without extension, e.g. <c>mnist</c>.</param>
    /// <exception cref="InvalidDataException">The existing file is not a JSON object.</exception>
    public void CheckMergeable(string name)
    {
        string path = PathFor(CheckName(name) + ".json");
        lock (MergeLock)
        {
            using var crossProcess = AcquireFileLock(path);
            ReadExisting(path);
        }
    }

    /// <summary>
    /// How long a merge waits for another process (a second <c>dls-samples</c> writing the same results folder) to
    /// finish its merge into the same file before giving up; 60 s by default.
    /// </summary>
    public TimeSpan LockTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The lock that makes read-merge-write of <paramref name="path"/> exclusive across processes: a hidden
    /// <c>.&lt;name&gt;.json.lock</c> beside it, opened without sharing (an advisory <c>flock</c> on Unix, a share-mode
    /// lock on Windows), released when the stream is disposed. The file stays, empty: deleting it would let two
    /// processes lock two different files of one name.
    /// </summary>
    private FileStream AcquireFileLock(string path)
    {
        Directory.CreateDirectory(OutputDirectory);
        string lockPath = Path.Combine(OutputDirectory, "." + Path.GetFileName(path) + ".lock");
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException && File.Exists(lockPath))
            {
                if (waited.Elapsed >= LockTimeout)
                {
                    throw new IOException(
                        $"Cannot merge results into '{path}': expected to get its lock '{lockPath}' within {LockTimeout.TotalSeconds:0.#} s, " +
                        "found it held by another process all that time (another dls-samples writing the same results folder?).", e);
                }

                Thread.Sleep(50);
            }
        }
    }

    /// <summary>The results file's object, or a new one when there is no file.</summary>
    private static JsonObject ReadExisting(string path)
    {
        if (!File.Exists(path))
        {
            return new JsonObject();
        }

        JsonNode? existing;
        try
        {
            existing = JsonNode.Parse(File.ReadAllText(path));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"Cannot merge results into '{path}': expected a JSON object, found invalid JSON ({e.Message}).", e);
        }

        return existing as JsonObject
            ?? throw new InvalidDataException($"Cannot merge results into '{path}': expected a JSON object, found {existing?.GetValueKind().ToString() ?? "null"}.");
    }

    /// <summary>Writes this task's section of the report, <c>&lt;out&gt;/&lt;name&gt;.md</c>.</summary>
    /// <param name="name">Section name, e.g. <c>mnist-baseline</c>.</param>
    /// <param name="markdown">The Markdown text (start with a level-2 heading).</param>
    public void WriteMarkdown(string name, string markdown)
    {
        ArgumentNullException.ThrowIfNull(markdown);
        string path = PathFor(CheckName(name) + ".md");
        AtomicFile.WriteAllText(path, markdown.EndsWith('\n') ? markdown : markdown + "\n");
        lock (_sections)
        {
            if (!_sections.Contains(path))
            {
                _sections.Add(path);
            }
        }
    }

    /// <summary>The full path of <paramref name="fileName"/> inside the results folder.</summary>
    /// <param name="fileName">A plain file name such as <c>mnist_loss.png</c>.</param>
    public string PathFor(string fileName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(fileName);
        if (fileName.IndexOfAny(['/', '\\']) >= 0 || fileName is "." or "..")
        {
            throw new ArgumentException($"Expected a plain file name inside the results folder, found '{fileName}'.", nameof(fileName));
        }

        return Path.Combine(OutputDirectory, fileName);
    }

    private static string CheckName(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return name;
    }
}
