namespace Dls.Speaker.Data;

/// <summary>Trial lists: read/written in the VoxCeleb format (<c>label path1 path2</c>) or generated from a dataset.</summary>
public static class TrialList
{
    /// <summary>
    /// Reads a VoxCeleb trial list: one trial per line, <c>1</c> (same speaker) or <c>0</c>, then two paths relative to
    /// <paramref name="wavRoot"/>. The speaker of a path is its first folder below the folders that every path of the
    /// list starts with: <c>id10270/…</c> in a VoxCeleb list, <c>a</c> and <c>b</c> in a list of
    /// <c>speakers/a/1.wav</c> and <c>speakers/b/1.wav</c>. (When every path lies in one folder, that folder is the
    /// speaker.)
    /// </summary>
    /// <exception cref="InvalidDataException">A line does not have three fields, the label is not 0/1, or a path is not
    /// <c>speaker/…</c>.</exception>
    public static IReadOnlyList<Trial> Read(string path, string wavRoot)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(wavRoot);
        if (!File.Exists(path)) throw new FileNotFoundException($"Trial list '{path}' does not exist.", path);
        var trials = new List<Trial>();
        int lineNumber = 0;
        foreach (var raw in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(raw)) continue;
            var parts = raw.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 3)
                throw new InvalidDataException($"Trial list '{path}' line {lineNumber}: expected 'label path1 path2', found {parts.Length} fields.");
            bool target = parts[0] switch
            {
                "1" => true,
                "0" => false,
                _ => throw new InvalidDataException($"Trial list '{path}' line {lineNumber}: expected label 0 or 1, found '{parts[0]}'."),
            };
            trials.Add(new Trial(target, Utterance(parts[1]), Utterance(parts[2])));

            SpeakerUtterance Utterance(string key)
            {
                int slash = key.IndexOf('/');
                if (slash <= 0)
                    throw new InvalidDataException($"Trial list '{path}' line {lineNumber}: expected a path 'speaker/…/file.wav', found '{key}'.");
                return new SpeakerUtterance(key[..slash], System.IO.Path.Combine(wavRoot, key.Replace('/', System.IO.Path.DirectorySeparatorChar)), key);
            }
        }
        if (trials.Count == 0) throw new InvalidDataException($"Trial list '{path}' holds no trials.");
        return SpeakersBelowSharedFolders(trials);
    }

    // The speaker of each key: its first folder after the leading folders all keys share, keeping at least one folder of
    // every key (the keys' file names never count as folders).
    private static IReadOnlyList<Trial> SpeakersBelowSharedFolders(List<Trial> trials)
    {
        var folders = trials.SelectMany(t => new[] { t.First.Key, t.Second.Key }).Distinct(StringComparer.Ordinal)
            .Select(k => Segments(k)[..^1]).ToArray();
        int shared = folders.Min(f => f.Length) - 1;
        for (int depth = 0; depth < shared; depth++)
        {
            string first = folders[0][depth];
            if (folders.Any(f => !string.Equals(f[depth], first, StringComparison.Ordinal))) { shared = depth; break; }
        }
        if (shared == 0) return trials;
        SpeakerUtterance Below(SpeakerUtterance u) => u with { SpeakerId = Segments(u.Key)[shared] };
        return trials.Select(t => t with { First = Below(t.First), Second = Below(t.Second) }).ToList();

        // "a//b/1.wav" is the path a/b/1.wav: an empty segment names no folder.
        static string[] Segments(string key) => key.Split('/', StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>Formats trials as VoxCeleb trial-list text (keys as paths).</summary>
    public static string Format(IEnumerable<Trial> trials)
    {
        ArgumentNullException.ThrowIfNull(trials);
        var sb = new System.Text.StringBuilder();
        foreach (var t in trials) sb.Append(t.IsTarget ? '1' : '0').Append(' ').Append(t.First.Key).Append(' ').Append(t.Second.Key).Append('\n');
        return sb.ToString();
    }

    /// <summary>
    /// Every unordered pair of utterances of a dataset as a trial (same- and different-speaker alike): the exhaustive
    /// list, whose EER has no sampling noise from the choice of different-speaker pairs (n·(n−1)/2 trials for n utterances).
    /// </summary>
    /// <exception cref="ArgumentException">The dataset has fewer than two speakers or no speaker with two utterances.</exception>
    public static IReadOnlyList<Trial> GenerateAll(SpeakerDataset dataset)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        if (dataset.Speakers.Count < 2)
            throw new ArgumentException($"Trials need at least 2 speakers; the dataset has {dataset.Speakers.Count}.", nameof(dataset));
        var all = dataset.Utterances;
        var trials = new List<Trial>(all.Count * (all.Count - 1) / 2);
        for (int i = 0; i < all.Count; i++)
            for (int j = i + 1; j < all.Count; j++)
                trials.Add(new Trial(all[i].SpeakerId == all[j].SpeakerId, all[i], all[j]));
        if (!trials.Any(t => t.IsTarget))
            throw new ArgumentException("Trials need a speaker with at least 2 utterances; every speaker of the dataset has one.", nameof(dataset));
        return trials;
    }

    /// <summary>
    /// Generates trials from a dataset: every same-speaker pair (each unordered pair once), and as many
    /// different-speaker pairs drawn with <paramref name="seed"/> (no pair twice while distinct pairs remain).
    /// </summary>
    /// <exception cref="ArgumentException">The dataset has fewer than two speakers or no speaker with two utterances.</exception>
    public static IReadOnlyList<Trial> Generate(SpeakerDataset dataset, int seed)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        if (dataset.Speakers.Count < 2)
            throw new ArgumentException($"Trials need at least 2 speakers; the dataset has {dataset.Speakers.Count}.", nameof(dataset));
        var trials = new List<Trial>();
        foreach (var speaker in dataset.Speakers)
        {
            var utts = dataset.UtterancesOf(speaker);
            for (int i = 0; i < utts.Count; i++)
                for (int j = i + 1; j < utts.Count; j++)
                    trials.Add(new Trial(true, utts[i], utts[j]));
        }
        if (trials.Count == 0)
            throw new ArgumentException("Trials need a speaker with at least 2 utterances; every speaker of the dataset has one.", nameof(dataset));

        int targets = trials.Count;
        var all = dataset.Utterances;
        long distinctDifferent = 0;
        foreach (var speaker in dataset.Speakers)
        {
            long n = dataset.UtterancesOf(speaker).Count;
            distinctDifferent += n * (all.Count - n);
        }
        distinctDifferent /= 2;
        var rng = new Random(seed);
        var seen = new HashSet<(int, int)>();
        while (trials.Count < 2 * targets)
        {
            int a = rng.Next(all.Count), b = rng.Next(all.Count);
            if (all[a].SpeakerId == all[b].SpeakerId) continue;
            if (seen.Count < distinctDifferent && !seen.Add((Math.Min(a, b), Math.Max(a, b)))) continue;
            trials.Add(new Trial(false, all[a], all[b]));
        }
        return trials;
    }
}
