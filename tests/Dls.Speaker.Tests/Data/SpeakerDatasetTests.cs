using Dls.Speaker.Data;

namespace Dls.Speaker.Tests.Data;

public sealed class SpeakerDatasetTests
{
    [Fact]
    public void Open_CorpusLayoutWithSplit_SelectsSplitSpeakers()
    {
        using var tree = new TempTree();
        foreach (var s in new[] { "b", "a", "c" })
            for (int i = 0; i < 3; i++) tree.Touch($"speakers/{s}/{s}_{i:000}.wav");
        tree.Touch("speakers/a/notes.txt");
        tree.Touch("speakers.csv", "speaker_id,engine,split\na,x,train\nb,y,test\nc,z,train\n");

        var all = SpeakerDataset.Open(tree.Root);
        Assert.Equal(["a", "b", "c"], all.Speakers);
        Assert.Equal(9, all.Utterances.Count);
        Assert.Equal("a/a_000.wav", all.Utterances[0].Key);

        var split = SpeakerSplit.Load(SpeakerSplit.Find(tree.Root)!);
        var train = all.WithSplit(split, "train");
        Assert.Equal(["a", "c"], train.Speakers);
        // The split file is also found from inside the speakers/ folder (it sits next to it in the corpus).
        Assert.Equal(Path.Combine(tree.Root, "speakers.csv"), SpeakerSplit.Find(Path.Combine(tree.Root, "speakers")));
    }

    [Fact]
    public void Open_VoxCelebLayout_UsesFirstFolderAsSpeaker()
    {
        using var tree = new TempTree();
        tree.Touch("wav/id001/vidA/00001.wav");
        tree.Touch("wav/id001/vidB/00001.wav");
        tree.Touch("wav/id002/vidC/00003.wav");
        var ds = SpeakerDataset.Open(tree.Root);
        Assert.Equal(["id001", "id002"], ds.Speakers);
        Assert.Equal(["id001/vidA/00001.wav", "id001/vidB/00001.wav"], ds.UtterancesOf("id001").Select(u => u.Key));
    }

    [Fact]
    public void Open_EmptyFolder_ThrowsInvalidData()
    {
        using var tree = new TempTree();
        var ex = Assert.Throws<InvalidDataException>(() => SpeakerDataset.Open(tree.Root));
        Assert.Contains("found none", ex.Message);
    }

    [Fact]
    public void SpeakerSplitLoad_MissingColumn_ThrowsInvalidData()
    {
        using var tree = new TempTree();
        var path = tree.Touch("speakers.csv", "speaker_id,engine\na,x\n");
        var ex = Assert.Throws<InvalidDataException>(() => SpeakerSplit.Load(path));
        Assert.Contains("'split'", ex.Message);
    }

    [Fact]
    public void TrialListRead_VoxCelebFormat_ParsesLabelsAndSpeakers()
    {
        using var tree = new TempTree();
        var path = tree.Touch("trials.txt", "1 id1/v1/00001.wav id1/v2/00002.wav\n0 id1/v1/00001.wav id2/v9/00001.wav\n");
        var trials = TrialList.Read(path, Path.Combine(tree.Root, "wav"));
        Assert.Equal(2, trials.Count);
        Assert.True(trials[0].IsTarget);
        Assert.Equal("id2", trials[1].Second.SpeakerId);
        Assert.Equal(Path.Combine(tree.Root, "wav", "id2", "v9", "00001.wav"), trials[1].Second.Path);
        Assert.Equal(File.ReadAllText(path), TrialList.Format(trials));
    }

    [Fact]
    public void TrialListRead_PathsUnderASharedFolder_SpeakerIsTheFirstFolderBelowIt()
    {
        // A list written relative to the corpus root ("speakers/<spk>/…") once counted one speaker, "speakers".
        using var tree = new TempTree();
        var path = tree.Touch("trials.txt",
            "1 speakers/a/1.wav speakers/a/2.wav\n0 speakers/a/1.wav speakers//b/1.wav\n0 speakers/b/1.wav speakers/c/x/1.wav\n");
        var trials = TrialList.Read(path, tree.Root);
        Assert.Equal(["a", "a", "a", "b", "b", "c"], trials.SelectMany(t => new[] { t.First.SpeakerId, t.Second.SpeakerId }));
        Assert.Equal(Path.Combine(tree.Root, "speakers", "c", "x", "1.wav"), trials[2].Second.Path);
        Assert.Equal(File.ReadAllText(path), TrialList.Format(trials));
    }

    [Fact]
    public void TrialListRead_AllPathsInOneFolder_ThatFolderIsTheSpeaker()
    {
        // No folder below the shared one to name speakers by: the shared folder itself stays the speaker.
        using var tree = new TempTree();
        var path = tree.Touch("trials.txt", "1 spk/1.wav spk/2.wav\n");
        var trials = TrialList.Read(path, tree.Root);
        Assert.Equal("spk", trials[0].First.SpeakerId);
        Assert.Equal("spk", trials[0].Second.SpeakerId);
    }

    [Fact]
    public void TrialListRead_BadLabel_ThrowsInvalidDataNamingLine()
    {
        using var tree = new TempTree();
        var path = tree.Touch("trials.txt", "1 a/x.wav a/y.wav\nyes a/x.wav b/y.wav\n");
        var ex = Assert.Throws<InvalidDataException>(() => TrialList.Read(path, tree.Root));
        Assert.Contains("line 2", ex.Message);
        Assert.Contains("'yes'", ex.Message);
    }
}
