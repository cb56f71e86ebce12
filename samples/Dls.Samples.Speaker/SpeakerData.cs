using Dls.Speaker.Data;

namespace Dls.Samples.Speaker;

/// <summary>Finds the evaluation/training speakers of a data folder.</summary>
internal static class SpeakerData
{
    /// <summary>
    /// The speakers of <paramref name="directory"/> in <paramref name="split"/> when a split file (speakers.csv, inside or
    /// next to the folder) exists; all speakers otherwise (or when <paramref name="split"/> is "all").
    /// </summary>
    public static (SpeakerDataset Dataset, string Description) Select(string directory, string split)
    {
        var dataset = SpeakerDataset.Open(directory);
        if (split == "all") return (dataset, $"all {dataset.Speakers.Count} speakers");
        var splitFile = SpeakerSplit.Find(directory);
        if (splitFile is null) return (dataset, $"all {dataset.Speakers.Count} speakers (no speakers.csv split file)");
        var subset = dataset.WithSplit(SpeakerSplit.Load(splitFile), split);
        return (subset, $"{subset.Speakers.Count} '{split}' speakers of {splitFile}");
    }
}
