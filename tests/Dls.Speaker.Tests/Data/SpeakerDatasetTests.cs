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

    [Fact]
    public void UtterancesOf_UnknownSpeaker_ThrowsNamingItAndTheSpeakerCount()
    {
        var dataset = new SpeakerDataset("/nowhere", [new SpeakerUtterance("a", "/nowhere/a/1.wav", "a/1.wav"), new SpeakerUtterance("b", "/nowhere/b/1.wav", "b/1.wav")]);
        var ex = Assert.Throws<ArgumentException>(() => dataset.UtterancesOf("c"));
        Assert.Equal("speakerId", ex.ParamName);
        Assert.Contains("Speaker 'c' is not in the dataset (it has 2 speakers).", ex.Message);
    }

    [Fact]
    public void WithSplit_NoSpeakerOfTheDatasetInTheSplit_ThrowsWithBothCounts()
    {
        using var tree = new TempTree();
        foreach (var s in new[] { "a", "b", "c" }) tree.Touch($"speakers/{s}/1.wav");
        // The split file's test speakers (x, y) are not in the dataset at all.
        tree.Touch("speakers.csv", "speaker_id,split\na,train\nx,test\ny,test\n");
        var dataset = SpeakerDataset.Open(tree.Root);
        var split = SpeakerSplit.Load(Path.Combine(tree.Root, "speakers.csv"));

        var ex = Assert.Throws<InvalidDataException>(() => dataset.WithSplit(split, "test"));

        Assert.Contains($"No speaker of the dataset at '{dataset.Root}' is in split 'test' (the split file lists 3 speakers, the dataset has 3).", ex.Message);
    }

    [Fact]
    public void OpenFromFoldersAndFromVoxCeleb_MissingFolder_ThrowDirectoryNotFoundNamingIt()
    {
        using var tree = new TempTree();
        string missing = Path.Combine(tree.Root, "no-such-folder");
        Assert.Equal($"Speaker dataset folder '{missing}' does not exist.", Assert.Throws<DirectoryNotFoundException>(() => SpeakerDataset.Open(missing)).Message);
        Assert.Equal($"Speaker folder '{missing}' does not exist.", Assert.Throws<DirectoryNotFoundException>(() => SpeakerDataset.FromFolders(missing)).Message);
        Assert.Equal($"VoxCeleb folder '{missing}' does not exist.", Assert.Throws<DirectoryNotFoundException>(() => SpeakerDataset.FromVoxCeleb(missing)).Message);
    }

    [Fact]
    public void Open_VoxCelebFolderWithoutVideoLevel_ThrowsInvalidDataNamingTheLayout()
    {
        // wav/<speaker>/<n>.wav: one folder level short of the VoxCeleb layout, so no file is found where it is expected.
        using var tree = new TempTree();
        tree.Touch("wav/id001/00001.wav");
        var ex = Assert.Throws<InvalidDataException>(() => SpeakerDataset.Open(tree.Root));
        Assert.Contains($"VoxCeleb folder '{Path.Combine(tree.Root, "wav")}': expected <speaker>/<video>/<n>.wav files, found none.", ex.Message);
    }

    [Fact]
    public void SpeakerSplitLoad_EveryRow_IsInSplitOfByTrimmedSpeakerId()
    {
        using var tree = new TempTree();
        // Extra columns, spaces around cells and a blank line, as a hand-edited file has them.
        var path = tree.Touch("speakers.csv", "engine, split ,speaker_id\nx, train , a\n\ny,test,b\nz,Train,c\n");
        var split = SpeakerSplit.Load(path);
        Assert.Equal(new Dictionary<string, string> { ["a"] = "train", ["b"] = "test", ["c"] = "Train" }, split.SplitOf);
        // Split names compare without case, so "Train" is a training speaker.
        Assert.Equal(["a", "c"], split.SpeakersIn("train"));
    }

    [Fact]
    public void SpeakerSplitLoad_MissingFile_ThrowsFileNotFoundNamingIt()
    {
        using var tree = new TempTree();
        string path = Path.Combine(tree.Root, "speakers.csv");
        var ex = Assert.Throws<FileNotFoundException>(() => SpeakerSplit.Load(path));
        Assert.Equal($"Split file '{path}' does not exist.", ex.Message);
        Assert.Equal(path, ex.FileName);
    }

    [Fact]
    public void SpeakerSplitLoad_EmptyFile_ThrowsExpectingTheHeader()
    {
        using var tree = new TempTree();
        var path = tree.Touch("speakers.csv");
        var ex = Assert.Throws<InvalidDataException>(() => SpeakerSplit.Load(path));
        Assert.Equal($"Split file '{path}' is empty; expected a header with 'speaker_id' and 'split' columns.", ex.Message);
    }

    [Fact]
    public void SpeakerSplitLoad_RowWithTooFewColumns_ThrowsNamingLineAndCounts()
    {
        using var tree = new TempTree();
        var path = tree.Touch("speakers.csv", "engine,speaker_id,split\nx,a,train\ny,b\n");
        var ex = Assert.Throws<InvalidDataException>(() => SpeakerSplit.Load(path));
        Assert.Equal($"Split file '{path}' line 3: expected at least 3 columns, found 2.", ex.Message);
    }

    [Fact]
    public void SpeakerSplitLoad_SpeakerListedTwice_ThrowsNamingLineAndSpeaker()
    {
        using var tree = new TempTree();
        // " a" is "a" once trimmed: the second row would silently move speaker a to the test split.
        var path = tree.Touch("speakers.csv", "speaker_id,split\na,train\nb,train\n a ,test\n");
        var ex = Assert.Throws<InvalidDataException>(() => SpeakerSplit.Load(path));
        Assert.Equal($"Split file '{path}' line 4: speaker 'a' is listed twice.", ex.Message);
    }

    [Fact]
    public void TrialListRead_MissingFile_ThrowsFileNotFoundNamingIt()
    {
        using var tree = new TempTree();
        string path = Path.Combine(tree.Root, "trials.txt");
        var ex = Assert.Throws<FileNotFoundException>(() => TrialList.Read(path, tree.Root));
        Assert.Equal($"Trial list '{path}' does not exist.", ex.Message);
        Assert.Equal(path, ex.FileName);
    }

    [Theory]
    [InlineData("1 a/x.wav\n", 1, 2)]
    [InlineData("1 a/x.wav a/y.wav\n\n0 a/x.wav b/y.wav extra\n", 3, 4)]
    public void TrialListRead_LineWithoutThreeFields_ThrowsNamingLineAndFieldCount(string content, int line, int fields)
    {
        using var tree = new TempTree();
        var path = tree.Touch("trials.txt", content);
        var ex = Assert.Throws<InvalidDataException>(() => TrialList.Read(path, tree.Root));
        Assert.Equal($"Trial list '{path}' line {line}: expected 'label path1 path2', found {fields} fields.", ex.Message);
    }

    [Theory]
    [InlineData("x.wav")]        // no folder at all
    [InlineData("/a/x.wav")]     // an absolute path: no speaker folder before the first '/'
    public void TrialListRead_PathWithoutSpeakerFolder_ThrowsNamingLineAndPath(string key)
    {
        using var tree = new TempTree();
        var path = tree.Touch("trials.txt", $"1 a/1.wav a/2.wav\n0 a/1.wav {key}\n");
        var ex = Assert.Throws<InvalidDataException>(() => TrialList.Read(path, tree.Root));
        Assert.Equal($"Trial list '{path}' line 2: expected a path 'speaker/…/file.wav', found '{key}'.", ex.Message);
    }

    [Fact]
    public void TrialListRead_OnlyBlankLines_ThrowsHoldsNoTrials()
    {
        using var tree = new TempTree();
        var path = tree.Touch("trials.txt", "\n   \n\n");
        var ex = Assert.Throws<InvalidDataException>(() => TrialList.Read(path, tree.Root));
        Assert.Equal($"Trial list '{path}' holds no trials.", ex.Message);
    }
}
