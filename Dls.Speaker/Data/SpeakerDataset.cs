using Dls.Audio.IO;

namespace Dls.Speaker.Data;

/// <summary>
/// A set of utterances grouped by speaker, read from folders: <c>&lt;root&gt;/&lt;speaker&gt;/&lt;utterance&gt;.wav</c>
/// or the VoxCeleb layout <c>wav/&lt;speaker&gt;/&lt;video&gt;/&lt;n&gt;.wav</c>. Speakers and utterances are kept in
/// ordinal order so that seeded sampling is reproducible across machines.
/// </summary>
public sealed class SpeakerDataset
{
    private readonly SpeakerUtterance[] _utterances;
    private readonly Dictionary<string, SpeakerUtterance[]> _bySpeaker;
    private readonly string[] _speakers;

    /// <summary>Creates a dataset from utterances (any order; they are sorted by key).</summary>
    /// <param name="root">The folder that <see cref="SpeakerUtterance.Key"/> is relative to.</param>
    /// <param name="utterances">The utterances.</param>
    public SpeakerDataset(string root, IEnumerable<SpeakerUtterance> utterances)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(utterances);
        Root = root;
        _utterances = utterances.OrderBy(u => u.SpeakerId, StringComparer.Ordinal)
            .ThenBy(u => u.Key, StringComparer.Ordinal).ToArray();
        _bySpeaker = _utterances.GroupBy(u => u.SpeakerId, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.ToArray(), StringComparer.Ordinal);
        _speakers = _bySpeaker.Keys.OrderBy(s => s, StringComparer.Ordinal).ToArray();
    }

    /// <summary>The folder the utterance keys are relative to.</summary>
    public string Root { get; }

    /// <summary>Speaker ids in ordinal order.</summary>
    public IReadOnlyList<string> Speakers => _speakers;

    /// <summary>All utterances, ordered by speaker then key.</summary>
    public IReadOnlyList<SpeakerUtterance> Utterances => _utterances;

    /// <summary>The utterances of one speaker.</summary>
    /// <exception cref="ArgumentException">The speaker is not in the dataset.</exception>
    public IReadOnlyList<SpeakerUtterance> UtterancesOf(string speakerId)
    {
        ArgumentNullException.ThrowIfNull(speakerId);
        return _bySpeaker.TryGetValue(speakerId, out var list)
            ? list
            : throw new ArgumentException($"Speaker '{speakerId}' is not in the dataset (it has {_speakers.Length} speakers).", nameof(speakerId));
    }

    /// <summary>The subset holding only the given speakers (those absent from the dataset are ignored).</summary>
    public SpeakerDataset WithSpeakers(IEnumerable<string> speakerIds)
    {
        ArgumentNullException.ThrowIfNull(speakerIds);
        var keep = new HashSet<string>(speakerIds, StringComparer.Ordinal);
        return new SpeakerDataset(Root, _utterances.Where(u => keep.Contains(u.SpeakerId)));
    }

    /// <summary>The subset of speakers that <paramref name="split"/> assigns to <paramref name="splitName"/>.</summary>
    /// <exception cref="InvalidDataException">No speaker of the dataset is in that split.</exception>
    public SpeakerDataset WithSplit(SpeakerSplit split, string splitName)
    {
        ArgumentNullException.ThrowIfNull(split);
        ArgumentNullException.ThrowIfNull(splitName);
        var subset = WithSpeakers(split.SpeakersIn(splitName));
        if (subset.Speakers.Count == 0)
            throw new InvalidDataException($"No speaker of the dataset at '{Root}' is in split '{splitName}' (the split file lists {split.SplitOf.Count} speakers, the dataset has {_speakers.Length}).");
        return subset;
    }

    /// <summary>
    /// Opens a dataset folder, detecting its layout: a VoxCeleb tree (<c>wav/&lt;spk&gt;/&lt;video&gt;/&lt;n&gt;.wav</c>,
    /// given as the folder holding <c>wav/</c>), a corpus folder holding <c>speakers/</c>, or a folder of speaker folders.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="InvalidDataException">No WAV file was found in the expected layout.</exception>
    public static SpeakerDataset Open(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"Speaker dataset folder '{directory}' does not exist.");
        var wav = System.IO.Path.Combine(directory, "wav");
        if (Directory.Exists(wav)) return FromVoxCeleb(wav);
        var speakers = System.IO.Path.Combine(directory, "speakers");
        return FromFolders(Directory.Exists(speakers) ? speakers : directory);
    }

    /// <summary>Reads <c>&lt;root&gt;/&lt;speaker&gt;/&lt;utterance&gt;.wav</c>.</summary>
    /// <exception cref="InvalidDataException">No speaker folder holds a WAV file.</exception>
    public static SpeakerDataset FromFolders(string root)
    {
        ArgumentNullException.ThrowIfNull(root);
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"Speaker folder '{root}' does not exist.");
        var list = new List<SpeakerUtterance>();
        foreach (var speakerDir in Directory.EnumerateDirectories(root))
        {
            var speaker = System.IO.Path.GetFileName(speakerDir);
            foreach (var file in AudioFile.ListWavFiles(speakerDir))
                list.Add(new SpeakerUtterance(speaker, file, speaker + "/" + System.IO.Path.GetFileName(file)));
        }
        if (list.Count == 0)
            throw new InvalidDataException($"Speaker folder '{root}': expected <speaker>/<utterance>.wav files, found none.");
        return new SpeakerDataset(root, list);
    }

    /// <summary>Reads the VoxCeleb layout <c>&lt;wavRoot&gt;/&lt;speaker&gt;/&lt;video&gt;/&lt;n&gt;.wav</c>.</summary>
    /// <exception cref="InvalidDataException">No WAV file was found two levels below a speaker folder.</exception>
    public static SpeakerDataset FromVoxCeleb(string wavRoot)
    {
        ArgumentNullException.ThrowIfNull(wavRoot);
        if (!Directory.Exists(wavRoot)) throw new DirectoryNotFoundException($"VoxCeleb folder '{wavRoot}' does not exist.");
        var list = new List<SpeakerUtterance>();
        foreach (var speakerDir in Directory.EnumerateDirectories(wavRoot))
        {
            var speaker = System.IO.Path.GetFileName(speakerDir);
            foreach (var videoDir in Directory.EnumerateDirectories(speakerDir))
            {
                var video = System.IO.Path.GetFileName(videoDir);
                foreach (var file in AudioFile.ListWavFiles(videoDir))
                    list.Add(new SpeakerUtterance(speaker, file, $"{speaker}/{video}/{System.IO.Path.GetFileName(file)}"));
            }
        }
        if (list.Count == 0)
            throw new InvalidDataException($"VoxCeleb folder '{wavRoot}': expected <speaker>/<video>/<n>.wav files, found none.");
        return new SpeakerDataset(wavRoot, list);
    }
}
