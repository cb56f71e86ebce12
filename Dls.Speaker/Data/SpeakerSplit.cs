namespace Dls.Speaker.Data;

/// <summary>
/// A split file: a CSV whose header names a <c>speaker_id</c> column and a <c>split</c> column (the corpus'
/// <c>speakers.csv</c>); every other column is ignored.
/// </summary>
public sealed class SpeakerSplit
{
    private readonly Dictionary<string, string> _splitOf;

    private SpeakerSplit(Dictionary<string, string> splitOf) => _splitOf = splitOf;

    /// <summary>The split of every speaker named in the file, by speaker id.</summary>
    public IReadOnlyDictionary<string, string> SplitOf => _splitOf;

    /// <summary>The speakers whose split is <paramref name="split"/> (ordinal comparison, sorted).</summary>
    public IReadOnlyList<string> SpeakersIn(string split)
    {
        ArgumentNullException.ThrowIfNull(split);
        return _splitOf.Where(kv => string.Equals(kv.Value, split, StringComparison.OrdinalIgnoreCase))
            .Select(kv => kv.Key).OrderBy(s => s, StringComparer.Ordinal).ToArray();
    }

    /// <summary>Reads a split file.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The header lacks <c>speaker_id</c> or <c>split</c>, a row has too few
    /// columns, or a speaker is listed twice.</exception>
    public static SpeakerSplit Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"Split file '{path}' does not exist.", path);
        var lines = File.ReadAllLines(path);
        if (lines.Length == 0) throw new InvalidDataException($"Split file '{path}' is empty; expected a header with 'speaker_id' and 'split' columns.");
        var header = lines[0].Trim().Split(',');
        int idColumn = Array.FindIndex(header, h => h.Trim() == "speaker_id");
        int splitColumn = Array.FindIndex(header, h => h.Trim() == "split");
        if (idColumn < 0 || splitColumn < 0)
            throw new InvalidDataException($"Split file '{path}': expected columns 'speaker_id' and 'split' in the header, found '{lines[0]}'.");
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 1; i < lines.Length; i++)
        {
            if (string.IsNullOrWhiteSpace(lines[i])) continue;
            var cells = lines[i].Trim().Split(',');
            if (cells.Length <= Math.Max(idColumn, splitColumn))
                throw new InvalidDataException($"Split file '{path}' line {i + 1}: expected at least {Math.Max(idColumn, splitColumn) + 1} columns, found {cells.Length}.");
            var id = cells[idColumn].Trim();
            if (!map.TryAdd(id, cells[splitColumn].Trim()))
                throw new InvalidDataException($"Split file '{path}' line {i + 1}: speaker '{id}' is listed twice.");
        }
        return new SpeakerSplit(map);
    }

    /// <summary>
    /// Finds the split file of a dataset folder: <c>speakers.csv</c> in <paramref name="directory"/>, else in its
    /// parent (the corpus keeps <c>speakers.csv</c> next to the <c>speakers/</c> folder).
    /// </summary>
    /// <returns>The path, or <see langword="null"/> when neither exists.</returns>
    public static string? Find(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        var inside = System.IO.Path.Combine(directory, "speakers.csv");
        if (File.Exists(inside)) return inside;
        var parent = Directory.GetParent(System.IO.Path.GetFullPath(directory).TrimEnd(System.IO.Path.DirectorySeparatorChar));
        if (parent is null) return null;
        var beside = System.IO.Path.Combine(parent.FullName, "speakers.csv");
        return File.Exists(beside) ? beside : null;
    }
}
